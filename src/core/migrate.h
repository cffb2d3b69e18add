/*
 * migrate: applies the numbered SQL files of a directory (NNN_name.sql, in
 * order), each in its own transaction, recording each in schema_migrations.
 * Already applied versions are skipped, so running it twice is safe; an
 * advisory lock keeps two runs from interleaving.
 */
#ifndef ADS_MIGRATE_H
#define ADS_MIGRATE_H

#include <stdio.h>

#include "db.h"

/* Applies what is missing; reports each step on out. Returns 0 or a db_* code. */
int migrate_run(struct db *db, const char *dir, FILE *out, char *err);

#endif
