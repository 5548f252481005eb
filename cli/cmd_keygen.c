/*
 * cmd_keygen.c - `textmill keygen`: make a CurveZMQ key pair as two
 * czmq-compatible certificate files, NAME.key (public, to give to the other
 * side) and NAME.key_secret (both keys, mode 0600, to keep).
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "cli.h"

static void tm__usage(FILE *out)
{
    fprintf(out,
            "Usage: textmill keygen [-d DIR] [-f] NAME\n"
            "Makes a CurveZMQ key pair: DIR/NAME.key (the public certificate: put it in the\n"
            "other side's allow-list, or give it to clients as the server key) and\n"
            "DIR/NAME.key_secret (public and secret key, mode 0600; for the server's\n"
            "curve_secret_key or a client's own key).  Prints the public key.\n"
            "  -d, --dir DIR   where to write (default .)\n"
            "  -f, --force     overwrite existing files\n");
}

static int tm__write(const char *path, const char *text, int mode, int force)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL), mode);
    if (fd < 0) {
        fprintf(stderr, "textmill keygen: cannot create %s: %s%s\n", path, strerror(errno),
                errno == EEXIST ? " (use --force to overwrite)" : "");
        return -1;
    }
    size_t len = strlen(text);
    int ok = write(fd, text, len) == (ssize_t)len;
    ok = fchmod(fd, (mode_t)mode) == 0 && ok;
    ok = close(fd) == 0 && ok;
    if (!ok)
        fprintf(stderr, "textmill keygen: cannot write %s: %s\n", path, strerror(errno));
    return ok ? 0 : -1;
}

int tm_cmd_keygen(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"dir", required_argument, NULL, 'd'}, {"force", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},      {NULL, 0, NULL, 0},
    };
    const char *dir = ".";
    int force = 0, opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "d:fh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'd': dir = optarg; break;
        case 'f': force = 1; break;
        case 'h': tm__usage(stdout); return 0;
        default: tm__usage(stderr); return 64;
        }
    }
    if (optind + 1 != argc || strchr(argv[optind], '/') != NULL || argv[optind][0] == '\0') {
        tm__usage(stderr);
        return 64;
    }
    const char *name = argv[optind];
    if (!zmq_has("curve")) {
        fprintf(stderr, "textmill keygen: this libzmq has no CURVE support\n");
        return 1;
    }
    char pub[41], sec[41];
    if (zmq_curve_keypair(pub, sec) != 0) {
        fprintf(stderr, "textmill keygen: cannot make a key pair: %s\n", zmq_strerror(errno));
        return 1;
    }
    char when[32];
    time_t now = time(NULL);
    struct tm tmv;
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tmv));
    char pubtext[512], sectext[640], path[4200];
    snprintf(pubtext, sizeof pubtext,
             "#   ****  Generated on %s by textmill keygen  ****\n"
             "#   ZeroMQ CURVE Public Certificate\n"
             "#   Exchange securely, or use a secure mechanism to verify the contents\n"
             "#   of this file after exchange. Store public certificates in your home\n"
             "#   directory, in the .curve subdirectory.\n"
             "\n"
             "metadata\n"
             "    name = \"%s\"\n"
             "curve\n"
             "    public-key = \"%s\"\n",
             when, name, pub);
    snprintf(sectext, sizeof sectext,
             "#   ****  Generated on %s by textmill keygen  ****\n"
             "#   ZeroMQ CURVE **Secret** Certificate\n"
             "#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.\n"
             "\n"
             "metadata\n"
             "    name = \"%s\"\n"
             "curve\n"
             "    public-key = \"%s\"\n"
             "    secret-key = \"%s\"\n",
             when, name, pub, sec);
    snprintf(path, sizeof path, "%s/%s.key_secret", dir, name);
    if (tm__write(path, sectext, 0600, force) != 0)
        return 1;
    snprintf(path, sizeof path, "%s/%s.key", dir, name);
    if (tm__write(path, pubtext, 0644, force) != 0)
        return 1;
    printf("%s\n", pub);
    fprintf(stderr, "textmill keygen: wrote %s/%s.key and %s/%s.key_secret\n", dir, name, dir,
            name);
    return 0;
}
