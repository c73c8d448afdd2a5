/* SQLite helpers for the stores: one-shot statements whose failure is
 * as good as "no value" to their callers. */

#include "sinks/audit/sql.h"

#include <stddef.h>

int64_t cde_sql_int(sqlite3 *db, const char *sql, const char *text, int64_t none)
{
	sqlite3_stmt *st;
	int64_t v = none;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return none;
	if (text)
		sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

bool cde_sql_has_table(sqlite3 *db, const char *name)
{
	return cde_sql_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1", name, 0) > 0;
}
