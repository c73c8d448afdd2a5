#pragma once
/* Small SQLite helpers shared by the stores. */

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

/* Runs @sql, a query of one integer value with at most one text
 * parameter (@text, or NULL for none), and returns the value, or @none
 * when the query fails, gives no row or gives NULL. */
int64_t cde_sql_int(sqlite3 *db, const char *sql, const char *text, int64_t none);

/* True when @db has a table named @name (files of older schemas lack some). */
bool cde_sql_has_table(sqlite3 *db, const char *name);
