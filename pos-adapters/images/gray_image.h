// Grey pixel buffers reshaped for a second barcode pass: shrunk, smoothed, turned.
#pragma once

#include <vector>

namespace regulars {

struct GrayImage {
  int width = 0, height = 0;
  std::vector<unsigned char> pixels;  // row by row, one byte a pixel
};

// A copy of at most `max_pixels`, each pixel the mean of a square block of the source.
GrayImage Shrunk(const unsigned char* pixels, int width, int height, long long max_pixels,
                 int* factor);

// Each pixel the mean of its 3x3 neighbourhood: sensor noise flips single pixels of a bar.
GrayImage Smoothed(const GrayImage& in);

// Turned by `degrees` (counter-clockwise) about its centre, on a white canvas that holds
// all of it (bilinear).
GrayImage Turned(const GrayImage& in, double degrees);

// Where the point (x, y) of `Turned(in, degrees)` came from in `in`.
void PointBeforeTurn(const GrayImage& in, double degrees, double* x, double* y);

}  // namespace regulars
