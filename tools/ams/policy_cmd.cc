// ams policy create|list|show: streaming policies, the predefined AMS ones and custom clear ones.

#include <cstdio>
#include <iterator>
#include <string>

#include "commands.h"
#include "store_cli.h"

namespace ams::tools {
namespace {

// "download,dash,hls,smoothStreaming" (any case, any order) into the protocol flags.
std::optional<store::Protocols> parse_protocols(const std::string& list) {
  store::Protocols p;
  gchar** names = g_strsplit(list.c_str(), ",", -1);
  bool ok = names[0] != nullptr;
  for (gchar** n = names; ok && *n != nullptr; ++n) {
    gchar* name = g_strstrip(*n);
    if (g_ascii_strcasecmp(name, "download") == 0) {
      p.download = true;
    } else if (g_ascii_strcasecmp(name, "dash") == 0) {
      p.dash = true;
    } else if (g_ascii_strcasecmp(name, "hls") == 0) {
      p.hls = true;
    } else if (g_ascii_strcasecmp(name, "smoothStreaming") == 0) {
      p.smooth_streaming = true;
    } else {
      ok = false;
    }
  }
  g_strfreev(names);
  return ok ? std::optional(p) : std::nullopt;
}

std::string protocol_list(const store::Protocols& p) {
  std::string s;
  for (auto [on, name] :
       {std::pair{p.download, "download"}, std::pair{p.dash, "dash"}, std::pair{p.hls, "hls"},
        std::pair{p.smooth_streaming, "smoothStreaming"}}) {
    if (!on) continue;
    if (!s.empty()) s += ',';
    s += name;
  }
  return s;
}

const char* encryption_name(store::Encryption e) {
  switch (e) {
    case store::Encryption::kNone:
      return "none";
    case store::Encryption::kEnvelope:
      return "envelope";
    case store::Encryption::kCommonCenc:
      return "cenc";
    case store::Encryption::kCommonCbcs:
      return "cbcs";
  }
  return "?";
}

int create(int argc, char** argv) {
  OptionString db, protocols;
  const GOptionEntry entries[] = {
      db_option(&db.value),
      {"protocols", 0, 0, G_OPTION_ARG_STRING, &protocols.value,
       "Enabled protocols, comma-separated: download, dash, hls, smoothStreaming", "LIST"},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr},
  };
  if (auto done = parse_command(argc, argv, entries, "NAME --protocols LIST",
                                "Creates a clear (unencrypted) streaming policy.", 1)) {
    return *done;
  }
  if (!protocols) return usage_error("--protocols is required");
  std::optional<store::Protocols> enabled = parse_protocols(protocols.value);
  if (!enabled) return usage_error(std::string("bad --protocols '") + protocols.value + "'");
  AMS_ASSIGN_OR_RETURN_EXIT(std::unique_ptr<store::Store> store, open_store(db.value));
  Status status = store->create_policy(store::Policy{argv[1], *enabled});
  return status ? 0 : fail(status);
}

int list(int argc, char** argv) {
  OptionString db;
  const GOptionEntry entries[] = {db_option(&db.value),
                                  {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr}};
  if (auto done = parse_command(argc, argv, entries, "",
                                "Lists the policies: name, protocols, encryption and "
                                "predefined/custom, tab-separated.",
                                0)) {
    return *done;
  }
  AMS_ASSIGN_OR_RETURN_EXIT(std::unique_ptr<store::Store> store, open_store(db.value));
  AMS_ASSIGN_OR_RETURN_EXIT(std::vector<store::Policy> policies, store->list_policies());
  for (const store::Policy& p : policies) {
    std::printf("%s\t%s\t%s\t%s\n", p.name.c_str(), protocol_list(p.protocols).c_str(),
                encryption_name(p.encryption), p.predefined ? "predefined" : "custom");
  }
  return 0;
}

int show(int argc, char** argv) {
  OptionString db;
  const GOptionEntry entries[] = {db_option(&db.value),
                                  {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr}};
  if (auto done = parse_command(argc, argv, entries, "NAME",
                                "Prints a policy as the AMS REST API does (JSON).", 1)) {
    return *done;
  }
  AMS_ASSIGN_OR_RETURN_EXIT(std::unique_ptr<store::Store> store, open_store(db.value));
  AMS_ASSIGN_OR_RETURN_EXIT(store::Policy policy, store->get_policy(argv[1]));
  std::fputs(store::policy_json(policy).c_str(), stdout);
  return 0;
}

constexpr SubCommand kSubCommands[] = {
    {"create", "NAME --protocols download,dash,hls,smoothStreaming", create},
    {"list", "", list},
    {"show", "NAME", show},
};

}  // namespace

int policy_main(int argc, char** argv) {
  return dispatch(kSubCommands, std::size(kSubCommands), argc, argv);
}

}  // namespace ams::tools
