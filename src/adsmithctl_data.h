/*
 * adsmithctl's data commands: prune (retention), user export and user
 * delete. The SQL is in each table's module (lifecycle.h says how a
 * deletion runs and in which order rows and objects go); these functions
 * only order the kinds and print.
 */
#ifndef ADS_ADSMITHCTL_DATA_H
#define ADS_ADSMITHCTL_DATA_H

#include "cfg.h"
#include "db.h"

/* The command line is not one of these commands: print the usage. */
#define CTL_USAGE (-1)

/* prune [--dry-run]: exit status (0 done, 1 failed) or CTL_USAGE. */
int ctl_prune(const struct config *cfg, struct db *db, int argc, char **argv);
/* user export USER [--links SECONDS] | user delete USER --yes: exit
 * status (0 done; 1 failed, or jobs of the user running now were kept; 2
 * refused: a bad user or a delete without --yes) or CTL_USAGE. */
int ctl_user(const struct config *cfg, struct db *db, int argc, char **argv);

#endif
