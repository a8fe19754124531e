// The sub-commands of `ams`. Each one is a function over its own arguments (argv[0] is the
// command's name) that returns the process exit status: 0 success, 1 failure, 2 bad usage.
// To add one: declare it here, write it in its own file, add a row to kCommands in main.cc.
#pragma once

namespace ams::tools {

int encode_main(int argc, char** argv);
int inspect_main(int argc, char** argv);
int package_main(int argc, char** argv);             // package.cc
int asset_main(int argc, char** argv);               // asset_cmd.cc
int policy_main(int argc, char** argv);              // policy_cmd.cc
int locator_main(int argc, char** argv);             // locator_cmd.cc
int account_filter_main(int argc, char** argv);      // filter_cmd.cc
int asset_filter_main(int argc, char** argv);        // filter_cmd.cc
int content_key_policy_main(int argc, char** argv);  // content_key_policy_cmd.cc
int serve_main(int argc, char** argv);

}  // namespace ams::tools
