/*
 * vpnctl: sends one command to a running vpnd over its control socket and
 * prints the answer. Exit status: the daemon's (0 done; 1 the command
 * failed or is unknown), 3 when no daemon answers, 64 usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "host-ctl.h"

int main(int argc, char **argv)
{
    const char *path = "/run/vpnd.ctl";
    char cmd[VPN_HOST_CTL_LINE_MAX + 2], buf[65536];
    size_t len = 0, got = 0;
    struct sockaddr_un sa;
    int i = 1, fd, code;
    char *nl;

    if (i + 1 < argc && strcmp(argv[i], "-s") == 0) {
        path = argv[i + 1];
        i += 2;
    }
    if (i < argc && (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)) {
        printf("usage: vpnctl [-s CTLSOCK] COMMAND...   (default socket /run/vpnd.ctl)\n\n%s",
               vpn_host_ctl_help());
        return 0;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: vpnctl [-s CTLSOCK] COMMAND...  ('vpnctl help' lists the commands)\n");
        return 64;
    }
    for (; i < argc; i++) {
        size_t l = strlen(argv[i]);
        if (len + l + 2 > VPN_HOST_CTL_LINE_MAX) {
            fprintf(stderr, "vpnctl: command too long\n");
            return 64;
        }
        memcpy(cmd + len, argv[i], l);
        len += l;
        cmd[len++] = ' ';
    }
    cmd[len - 1] = '\n';
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa.sun_path) {
        fprintf(stderr, "vpnctl: socket path too long\n");
        return 64;
    }
    strcpy(sa.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        fprintf(stderr, "vpnctl: cannot reach vpnd at %s: %s\n", path, strerror(errno));
        return 3;
    }
    if (write(fd, cmd, len) != (ssize_t)len) {
        fprintf(stderr, "vpnctl: send: %s\n", strerror(errno));
        return 3;
    }
    shutdown(fd, SHUT_WR);
    /* "<code>\n" then the text, until the daemon closes. */
    for (;;) {
        ssize_t k = read(fd, buf + got, sizeof buf - 1 - got);
        if (k <= 0)
            break;
        got += (size_t)k;
        buf[got] = '\0';
        if ((nl = memchr(buf, '\n', got)) != NULL && got == sizeof buf - 1) {
            /* flush a long answer in pieces, keeping the status line */
            break;
        }
    }
    buf[got] = '\0';
    nl = memchr(buf, '\n', got);
    if (nl == NULL) {
        fprintf(stderr, "vpnctl: no answer from vpnd\n");
        return 3;
    }
    *nl = '\0';
    code = atoi(buf);
    fputs(nl + 1, code ? stderr : stdout);
    for (;;) {
        ssize_t k = read(fd, buf, sizeof buf);
        if (k <= 0)
            break;
        fwrite(buf, 1, (size_t)k, code ? stderr : stdout);
    }
    close(fd);
    return code;
}
