/* SPDX-License-Identifier: MIT */
/*
 * pvacceld-stats: ask a pvacceld for its statistics (docs/admin.md,
 * "Statistics") and print the JSON on standard output.  The real-Xen
 * scenarios run it in dom0, whose busybox cannot speak to a UNIX socket.
 *
 *   pvacceld-stats RUNDIR
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    char buf[4096];
    ssize_t n;
    int fd;

    if (argc != 2) {
        fprintf(stderr, "usage: pvacceld-stats RUNDIR\n");
        return 2;
    }
    if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/pvacceld.sock",
                         argv[1]) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "pvacceld-stats: %s: path too long\n", argv[1]);
        return 1;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        write(fd, "stats\n", 6) != 6) {
        perror("pvacceld-stats");
        return 1;
    }
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
            return 1;
    close(fd);
    return n < 0;
}
