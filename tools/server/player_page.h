// The player page of `ams serve`: "/" is the page (index.html of the player folder, tools/player),
// "/player/{file}" its scripts and styles and the player libraries npm installed beside them, and
// "/api/locators" lists every streaming locator with its AMS listPaths document:
//   {"locators": [{"id": "...", "asset": "...", "policy": "...", "paths": {listPaths}}]}
// to the operator only (operator_auth.h): the page reads the token from its URL (#token=...).
// These paths never collide with the AMS grammar: a locator is a GUID.
#pragma once

#include <string>
#include <string_view>

#include "store/store.h"

namespace ams::server {

// The player folder of this program: the installed one ($datadir/gst-ams/player) when the
// program runs from the folder `meson install` put it in, under its prefix or below a DESTDIR
// (a staged or relocated install); else, for a program run from the build tree, the source
// tree's tools/player, where npm installed the libraries.
std::string default_player_dir();

bool is_player_path(std::string_view path);
// Whether the path answers only a request with the operator's token (the locator list).
bool needs_operator_token(std::string_view path);

struct PlayerAnswer {
  unsigned status = 200;
  std::string content_type;
  std::string body;
};

// `player_dir` holds index.html; a file outside it, or of a type other than the page's own
// (.html, .js, .css, .map), is a 404.
PlayerAnswer answer_player_path(std::string_view path, const std::string& player_dir,
                                store::Store& store);

}  // namespace ams::server
