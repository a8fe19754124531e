#include "sqlite_util.h"

namespace ams::store {

Status sqlite_error(sqlite3* db, const std::string& what) {
  int code = sqlite3_errcode(db);
  std::string message = what + ": " + sqlite3_errmsg(db);
  if ((code & 0xff) == SQLITE_CONSTRAINT) return invalid_argument(message);
  return io_error(message);
}

Status exec(sqlite3* db, const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &error) == SQLITE_OK) return Status::ok();
  std::string message = error != nullptr ? error : "unknown error";
  sqlite3_free(error);
  return io_error(std::string("sqlite: ") + message);
}

Result<Statement> Statement::prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return sqlite_error(db, "prepare");
  }
  return Statement(db, stmt);
}

Statement& Statement::bind(int index, std::string_view text) {
  sqlite3_bind_text(stmt_.get(), index, text.data(), static_cast<int>(text.size()),
                    SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::bind(int index, const std::optional<std::string>& text) {
  if (text) return bind(index, std::string_view(*text));
  sqlite3_bind_null(stmt_.get(), index);
  return *this;
}

Statement& Statement::bind(int index, int64_t number) {
  sqlite3_bind_int64(stmt_.get(), index, number);
  return *this;
}

Statement& Statement::bind_blob(int index, std::string_view bytes) {
  sqlite3_bind_blob(stmt_.get(), index, bytes.data(), static_cast<int>(bytes.size()),
                    SQLITE_TRANSIENT);
  return *this;
}

Status Statement::run(const std::string& what) {
  int rc = step();
  if (rc == SQLITE_DONE || rc == SQLITE_ROW) return Status::ok();
  return sqlite_error(db_, what);
}

std::string Statement::text(int column) const {
  const unsigned char* t = sqlite3_column_text(stmt_.get(), column);
  if (t == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(t),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_.get(), column)));
}

std::optional<std::string> Statement::optional_text(int column) const {
  if (sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL) return std::nullopt;
  return text(column);
}

std::string Statement::blob(int column) const {
  const void* bytes = sqlite3_column_blob(stmt_.get(), column);
  if (bytes == nullptr) return {};
  return std::string(static_cast<const char*>(bytes),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_.get(), column)));
}

Result<int64_t> query_integer(sqlite3* db, const char* sql) {
  AMS_ASSIGN_OR_RETURN(Statement statement, Statement::prepare(db, sql));
  if (statement.step() != SQLITE_ROW) return sqlite_error(db, sql);
  return statement.integer(0);
}

}  // namespace ams::store
