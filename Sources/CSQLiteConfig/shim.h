#ifndef TICKETGATE_CSQLITECONFIG_SHIM_H
#define TICKETGATE_CSQLITECONFIG_SHIM_H

#include <sqlite3.h>

/* Typed wrappers: Swift cannot call the variadic sqlite3_config. Both must run before SQLite initializes. */

/* Connections without their own mutex: GRDB already serializes every use of a connection on its queue. */
static inline int tg_sqlite_config_multithread(void) {
    return sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
}

/* No memory statistics, so no global mutex around every allocation. */
static inline int tg_sqlite_config_memstatus(int on) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, on);
}

#endif
