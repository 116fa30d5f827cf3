#include "images/gray_image.h"

#include <cmath>
#include <numbers>

namespace regulars {
namespace {

struct Turn {
  double cos, sin;
  int width, height;  // of the turned canvas
};

Turn TurnOf(const GrayImage& in, double degrees) {
  double a = degrees * std::numbers::pi / 180, c = std::cos(a), s = std::sin(a);
  return {c, s, static_cast<int>(std::ceil(std::abs(in.width * c) + std::abs(in.height * s))),
          static_cast<int>(std::ceil(std::abs(in.width * s) + std::abs(in.height * c)))};
}

// The source point of canvas point (x, y).
void Source(const GrayImage& in, const Turn& t, double* x, double* y) {
  double dx = *x - t.width / 2.0, dy = *y - t.height / 2.0;
  *x = t.cos * dx + t.sin * dy + in.width / 2.0;
  *y = -t.sin * dx + t.cos * dy + in.height / 2.0;
}

}  // namespace

GrayImage Shrunk(const unsigned char* pixels, int width, int height, long long max_pixels,
                 int* factor) {
  int k = 1;
  while (static_cast<long long>(width / k) * (height / k) > max_pixels) ++k;
  *factor = k;
  GrayImage out{width / k, height / k, {}};
  out.pixels.resize(static_cast<size_t>(out.width) * static_cast<size_t>(out.height));
  for (int y = 0; y < out.height; ++y) {
    for (int x = 0; x < out.width; ++x) {
      int sum = 0;
      for (int j = 0; j < k; ++j) {
        const unsigned char* row =
            pixels + (static_cast<size_t>(y * k + j) * width) + (static_cast<size_t>(x) * k);
        for (int i = 0; i < k; ++i) sum += row[i];
      }
      out.pixels[(static_cast<size_t>(y) * out.width) + x] =
          static_cast<unsigned char>(sum / (k * k));
    }
  }
  return out;
}

GrayImage Smoothed(const GrayImage& in) {
  GrayImage out = in;
  for (int y = 1; y + 1 < in.height; ++y) {
    for (int x = 1; x + 1 < in.width; ++x) {
      int sum = 0;
      for (int j = -1; j <= 1; ++j) {
        const unsigned char* row = in.pixels.data() + (static_cast<size_t>(y + j) * in.width) + x;
        sum += row[-1] + row[0] + row[1];
      }
      out.pixels[(static_cast<size_t>(y) * in.width) + x] =
          static_cast<unsigned char>((sum + 4) / 9);
    }
  }
  return out;
}

GrayImage Turned(const GrayImage& in, double degrees) {
  Turn t = TurnOf(in, degrees);
  GrayImage out{t.width, t.height, {}};
  out.pixels.assign(static_cast<size_t>(t.width) * static_cast<size_t>(t.height), 255);
  auto at = [&](int x, int y) -> double {
    if (x < 0 || y < 0 || x >= in.width || y >= in.height) return 255;
    return in.pixels[(static_cast<size_t>(y) * in.width) + x];
  };
  for (int y = 0; y < t.height; ++y) {
    for (int x = 0; x < t.width; ++x) {
      double sx = x, sy = y;
      Source(in, t, &sx, &sy);
      int x0 = static_cast<int>(std::floor(sx)), y0 = static_cast<int>(std::floor(sy));
      if (x0 < -1 || y0 < -1 || x0 >= in.width || y0 >= in.height) continue;
      double fx = sx - x0, fy = sy - y0;
      double v = (at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx) * (1 - fy) +
                 (at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx) * fy;
      out.pixels[(static_cast<size_t>(y) * t.width) + x] =
          static_cast<unsigned char>(std::lround(v));
    }
  }
  return out;
}

void PointBeforeTurn(const GrayImage& in, double degrees, double* x, double* y) {
  Source(in, TurnOf(in, degrees), x, y);
}

}  // namespace regulars
