/*
 * cli.h - the `textmill` command: one file per subcommand.
 */
#ifndef TM_CLI_H
#define TM_CLI_H

#include <stddef.h>

#define TM_DEFAULT_INGEST "tcp://127.0.0.1:7710"
#define TM_DEFAULT_PUSH "tcp://127.0.0.1:7711"
#define TM_DEFAULT_PUBLISH "tcp://127.0.0.1:7720"

int tm_cmd_run(int argc, char **argv);
int tm_cmd_send(int argc, char **argv);
int tm_cmd_tail(int argc, char **argv);
int tm_cmd_bench(int argc, char **argv);
int tm_cmd_keygen(int argc, char **argv);

/* Make sock a CurveZMQ client: server_cert holds the daemon's public key,
 * client_cert the client's key pair (both `textmill keygen` files).  Either
 * NULL: nothing to do.  Returns 0, or -1 after printing why. */
int tm_cli_curve(void *sock, const char *server_cert, const char *client_cert, const char *cmd);

/* Read a whole file (or stdin for "-") into a NUL-terminated buffer.
 * Returns NULL with errno set on failure. */
char *tm_cli_read_file(const char *path, size_t *len);

#endif
