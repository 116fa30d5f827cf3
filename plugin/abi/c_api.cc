// The C ABI: a thin wrapper over Till. No exception crosses it (one catch-all per call).
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "checkout/customer_lookup_provider.h"
#include "checkout/till.h"
#include "config/config.h"
#include "json/error_json.h"
#include "regulars/regulars.h"
#include "regulars_version.h"
#include "store/audit_chain.h"

struct regulars_till {
  std::mutex mutex;
  std::unique_ptr<regulars::Till> till;
};

namespace {

using regulars::Error;
using regulars::ErrorKind;

char* Copy(const std::string& text) {
  char* out = static_cast<char*>(std::malloc(text.size() + 1));
  if (out != nullptr) std::memcpy(out, text.c_str(), text.size() + 1);
  return out;
}

int CodeOf(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kBadInput:
      return REGULARS_E_INVALID_INPUT;
    case ErrorKind::kNotFound:
      return REGULARS_E_NOT_FOUND;
    case ErrorKind::kConflict:
      return REGULARS_E_CONFLICT;
    case ErrorKind::kStorage:
      return REGULARS_E_STORAGE;
    case ErrorKind::kInternal:
      return REGULARS_E_INTERNAL;
  }
  return REGULARS_E_INTERNAL;
}

// Never throws: it runs inside catch handlers too. Without memory for the message, the
// code still tells the caller what happened and *out stays NULL.
int Fail(const Error& e, char** out) noexcept {
  if (out != nullptr) {
    try {
      *out = Copy(regulars::ErrorJson(e));
    } catch (...) {
      *out = nullptr;
    }
  }
  return CodeOf(e.kind);
}

int FailInternal(const char* message, char** out) noexcept {
  try {
    return Fail(Error::Internal(message), out);
  } catch (...) {
    if (out != nullptr) *out = nullptr;
    return REGULARS_E_INTERNAL;
  }
}

int Succeed(const std::string& text, char** out) noexcept {
  if (out == nullptr) return REGULARS_OK;
  *out = Copy(text);
  return *out != nullptr ? REGULARS_OK : REGULARS_E_INTERNAL;
}

// Runs `call` under the handle's lock, turning errors and exceptions into a code + JSON.
template <typename Call>
int Guarded(regulars_till* handle, const char* input, char** out, Call call) {
  if (out != nullptr) *out = nullptr;
  try {
    if (handle == nullptr || input == nullptr) {
      Fail({ErrorKind::kBadInput, "invalid_argument", "handle and input must not be NULL", ""},
           out);
      return REGULARS_E_ARGUMENT;
    }
    std::lock_guard<std::mutex> lock(handle->mutex);
    regulars::Result<std::string> result = call(*handle->till, std::string_view(input));
    return result.ok() ? Succeed(*result, out) : Fail(result.error(), out);
  } catch (const std::bad_alloc&) {
    return FailInternal("out of memory", out);
  } catch (const std::exception& e) {
    return FailInternal(e.what(), out);
  } catch (...) {
    return FailInternal("unknown failure", out);
  }
}

}  // namespace

extern "C" {

int regulars_abi_version(void) { return REGULARS_ABI_VERSION; }

const char* regulars_version(void) { return REGULARS_VERSION_STRING; }

int regulars_open(regulars_till** out_handle, const char* config_path, const char* db_path,
                  char** error) {
  if (error != nullptr) *error = nullptr;
  if (out_handle == nullptr) return REGULARS_E_ARGUMENT;
  *out_handle = nullptr;
  try {
    if (config_path == nullptr || db_path == nullptr) {
      Fail({ErrorKind::kBadInput, "invalid_argument", "config and database paths are required", ""},
           error);
      return REGULARS_E_ARGUMENT;
    }
    auto till = regulars::Till::OpenFile(config_path, db_path);
    if (!till.ok()) return Fail(till.error(), error);
    // The online look-up of unknown loyalty cards, when this build and the config have one.
    if (auto lookup = regulars::MakeCustomerLookup((*till)->config())) {
      (*till)->SetCustomerLookup(std::move(lookup));
    }
    auto* handle = new regulars_till();
    handle->till = std::move(till).value();
    *out_handle = handle;
    return REGULARS_OK;
  } catch (const std::exception& e) {
    return FailInternal(e.what(), error);
  } catch (...) {
    return FailInternal("unknown failure", error);
  }
}

void regulars_close(regulars_till* handle) { delete handle; }

int regulars_config_check(const char* config_path, char** out) {
  if (out != nullptr) *out = nullptr;
  try {
    if (config_path == nullptr) {
      Fail({ErrorKind::kBadInput, "invalid_argument", "the config path is required", ""}, out);
      return REGULARS_E_ARGUMENT;
    }
    auto config = regulars::LoadConfigFile(config_path);
    if (!config.ok()) return Fail(config.error(), out);
    regulars::OrderedJson summary{{"ok", true},
                                  {"store_id", config->till.store_id},
                                  {"till_id", config->till.till_id},
                                  {"currency", config->till.currency.code},
                                  {"rules", config->rules.rules.size()},
                                  {"rules_version", config->rules.version},
                                  {"payment_token_keys", config->payment_tokens.keys.size()},
                                  {"qr_public_keys", config->qr.public_keys.size()}};
    return Succeed(regulars::ToText(summary), out);
  } catch (const std::exception& e) {
    return FailInternal(e.what(), out);
  } catch (...) {
    return FailInternal("unknown failure", out);
  }
}

int regulars_enroll(regulars_till* handle, const char* request_json, char** out) {
  return Guarded(handle, request_json, out,
                 [](regulars::Till& till, std::string_view in) { return till.Enroll(in); });
}

int regulars_evaluate(regulars_till* handle, const char* basket_json, char** out) {
  return Guarded(handle, basket_json, out,
                 [](regulars::Till& till, std::string_view in) { return till.Evaluate(in); });
}

int regulars_commit(regulars_till* handle, const char* basket_json, char** out) {
  return Guarded(handle, basket_json, out,
                 [](regulars::Till& till, std::string_view in) { return till.Commit(in); });
}

int regulars_void(regulars_till* handle, const char* request_json, char** out) {
  return Guarded(handle, request_json, out,
                 [](regulars::Till& till, std::string_view in) { return till.Void(in); });
}

int regulars_refund(regulars_till* handle, const char* refund_json, char** out) {
  return Guarded(handle, refund_json, out,
                 [](regulars::Till& till, std::string_view in) { return till.Refund(in); });
}

int regulars_recognize(regulars_till* handle, const char* request_json, char** out) {
  return Guarded(handle, request_json, out,
                 [](regulars::Till& till, std::string_view in) { return till.RecognizeOnly(in); });
}

int regulars_link(regulars_till* handle, const char* request_json, char** out) {
  return Guarded(handle, request_json, out,
                 [](regulars::Till& till, std::string_view in) { return till.Link(in); });
}

int regulars_replace_card(regulars_till* handle, const char* request_json, char** out) {
  return Guarded(handle, request_json, out,
                 [](regulars::Till& till, std::string_view in) { return till.ReplaceCard(in); });
}

int regulars_config_status(regulars_till* handle, char** out) {
  return Guarded(handle, "", out, [](regulars::Till& till, std::string_view) {
    return regulars::Result<std::string>(till.ConfigStatus());
  });
}

int regulars_db_verify(regulars_till* handle, char** out) {
  return Guarded(handle, "", out, [](regulars::Till& till, std::string_view) {
    auto report = till.Verify();
    if (!report.ok()) return regulars::Result<std::string>(report.error());
    regulars::OrderedJson mismatches = regulars::OrderedJson::array();
    for (const auto& m : report->mismatches) {
      auto counter = [](const regulars::Counter& c) {
        return regulars::OrderedJson{{"units", c.units},
                                     {"rewards", c.rewards},
                                     {"progress", c.progress},
                                     {"over_granted", c.over_granted}};
      };
      mismatches.push_back({{"customer", m.customer_id},
                            {"rule", m.rule},
                            {"stored", counter(m.stored)},
                            {"recomputed", counter(m.recomputed)}});
    }
    regulars::OrderedJson json{{"ok", report->mismatches.empty() && report->problems.empty()},
                               {"events", report->events},
                               {"counters", report->counters},
                               {"mismatches", mismatches},
                               {"problems", report->problems},
                               {"ledger",
                                {{"store_id", report->owner.store_id},
                                 {"till_id", report->owner.till_id},
                                 {"currency", report->owner.currency}}}};
    return regulars::Result<std::string>(regulars::ToText(json));
  });
}

int regulars_audit_verify(regulars_till* handle, char** out) {
  return Guarded(handle, "", out, [](regulars::Till& till, std::string_view) {
    const auto& goodwill = till.config().goodwill;
    if (goodwill.audit_key.secret.empty()) {
      return regulars::Result<std::string>(regulars::Error::BadInput(
          "goodwill_not_configured",
          "the config has no goodwill audit key, so there is no chain to verify"));
    }
    auto keys = goodwill.AuditKeys();
    auto report = regulars::VerifyAudit(till.ledger().db(), keys);
    if (!report.ok()) return regulars::Result<std::string>(report.error());
    regulars::OrderedJson problems = regulars::OrderedJson::array();
    for (const auto& p : report->problems) {
      problems.push_back({{"seq", p.seq}, {"problem", p.what}});
    }
    regulars::OrderedJson json{
        {"entries", report->entries}, {"ok", report->ok()}, {"problems", problems}};
    return regulars::Result<std::string>(regulars::ToText(json));
  });
}

void regulars_free(char* text) { std::free(text); }

}  // extern "C"
