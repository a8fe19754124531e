// `ams serve --config FILE`: a GLib key file whose [serve] group holds the command line's long
// options as keys (`listen = 0.0.0.0:8080`, `max-concurrent = 32`, `access-log = /var/log/...`).
// The keys become options placed before the command line's own, so the command line overrides
// the file. A key that is no option, or any other group, is an error naming the file and line.
// A relative path in a file or folder option is taken from the file's folder (docs/server.md,
// "Configuration file").
#pragma once

#include <glib.h>

#include <string>
#include <vector>

#include "base/status.h"

namespace ams::tools {

// The options the file gives, as "--key=value" (or "--key" for a flag that is true), in the
// file's order. `entries` is the command's option table, ended by an entry without a long name.
Result<std::vector<std::string>> config_arguments(const std::string& path,
                                                  const GOptionEntry* entries);

// Where an installed `ams serve` looks for its file without --config: $sysconfdir/gst-ams/ams.conf,
// when this program runs from the bindir it was installed to and the file exists; else "".
std::string default_config_path();

}  // namespace ams::tools
