/*
 * The benchmark's baseline: the smallest useful libfcgi responder. It forks
 * the same number of processes as adsmith-api's workers and answers a fixed
 * JSON body, so the bench can measure what adsmith adds on top of nginx and
 * FastCGI. Usage: hello-fcgi SOCKET PROCESSES
 */
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void serve(int sock)
{
    static const char body[] = "{\"hello\":\"world\"}";
    FCGX_Request r;

    prctl(PR_SET_PDEATHSIG, SIGTERM);
    FCGX_InitRequest(&r, sock, 0);
    while (FCGX_Accept_r(&r) >= 0) {
        char head[160];
        int n = snprintf(head, sizeof head,
                         "Status: 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
                         (int)strlen(body));
        FCGX_PutStr(head, n, r.out);
        FCGX_PutStr(body, (int)strlen(body), r.out);
        FCGX_Finish_r(&r);
    }
}

int main(int argc, char **argv)
{
    int sock, n, i;

    if (argc != 3 || (n = atoi(argv[2])) < 1) {
        fprintf(stderr, "usage: hello-fcgi SOCKET PROCESSES\n");
        return 2;
    }
    FCGX_Init();
    unlink(argv[1]);
    sock = FCGX_OpenSocket(argv[1], 1024);
    if (sock < 0) {
        fprintf(stderr, "hello-fcgi: cannot listen on %s\n", argv[1]);
        return 1;
    }
    for (i = 0; i < n; i++) {
        if (fork() == 0) {
            serve(sock);
            _exit(0);
        }
    }
    while (wait(NULL) > 0)
        ;
    return 0;
}
