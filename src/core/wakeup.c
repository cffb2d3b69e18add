/* The self-pipe and the stop signals of a background process: wakeup.h. */
#include "wakeup.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static int wake_pipe[2] = { -1, -1 };
static volatile sig_atomic_t stopping;

void wakeup_poke(void)
{
    int saved = errno;

    if (wake_pipe[1] >= 0 && write(wake_pipe[1], "x", 1) < 0) {
        /* The pipe is full: the loop is awake anyway. */
    }
    errno = saved;
}

static void on_stop(int sig)
{
    (void)sig;
    stopping = 1;
    wakeup_poke();
}

int wakeup_install(char *err)
{
    struct sigaction sa;

    if (pipe(wake_pipe) != 0 || fcntl(wake_pipe[0], F_SETFL, O_NONBLOCK) != 0 ||
        fcntl(wake_pipe[1], F_SETFL, O_NONBLOCK) != 0 || fcntl(wake_pipe[0], F_SETFD, FD_CLOEXEC) != 0 ||
        fcntl(wake_pipe[1], F_SETFD, FD_CLOEXEC) != 0) {
        ads_errf(err, "cannot create the wake-up pipe");
        return -1;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

int wakeup_fd(void)
{
    return wake_pipe[0];
}

void wakeup_drain(void)
{
    char drain[64];

    while (read(wake_pipe[0], drain, sizeof drain) > 0)
        ;
}

int wakeup_stopping(void)
{
    return stopping != 0;
}
