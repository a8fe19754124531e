// Thin RAII over the sqlite3 C API for the store: a prepared statement that binds and reads by
// column index, and the mapping of SQLite failures to Status.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace ams::store {

// kIo with SQLite's message; constraint failures become kInvalidArgument (the caller's fault).
Status sqlite_error(sqlite3* db, const std::string& what);

Status exec(sqlite3* db, const char* sql);

class Statement {
 public:
  static Result<Statement> prepare(sqlite3* db, const char* sql);

  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, const std::string& text) {
    return bind(index, std::string_view(text));
  }
  Statement& bind(int index, const std::optional<std::string>& text);  // NULL when absent
  Statement& bind(int index, int64_t number);
  Statement& bind_blob(int index, std::string_view bytes);

  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(stmt_.get()); }
  // Steps a statement that returns no rows.
  Status run(const std::string& what);

  std::string text(int column) const;
  std::optional<std::string> optional_text(int column) const;
  std::string blob(int column) const;  // the bytes of a BLOB column
  int64_t integer(int column) const { return sqlite3_column_int64(stmt_.get(), column); }

 private:
  struct Finalize {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
  };
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}

  sqlite3* db_;
  std::unique_ptr<sqlite3_stmt, Finalize> stmt_;
};

// The single integer a query such as "PRAGMA user_version" returns.
Result<int64_t> query_integer(sqlite3* db, const char* sql);

}  // namespace ams::store
