/* http.c - a minimal HTTP/1.1 server on POSIX sockets for `hpsweep serve`; see http.h. */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int hp_http_listen(const char *addr, int port, int *fd, hp_err *err) {
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
        return hp_errf(err, "--bind %s: not an IPv4 address (use 127.0.0.1, or 0.0.0.0 for every interface)", addr);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) return hp_errf(err, "cannot create a socket: %s", strerror(errno));
    int one = 1; /* a restarted server can listen again at once (no TIME_WAIT wait) */
    if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        fcntl(s, F_SETFD, FD_CLOEXEC) != 0) {
        int e = errno;
        close(s);
        return hp_errf(err, "cannot set up the socket for %s:%d: %s", addr, port, strerror(e));
    }
    if (bind(s, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int e = errno;
        close(s);
        if (e == EADDRINUSE)
            return hp_errf(err, "port %d on %s is already in use (another hpsweep serve?): choose another with "
                                "--port", port, addr);
        if (e == EACCES)
            return hp_errf(err, "port %d on %s: permission denied (ports below 1024 need root): choose --port "
                                "1024 or above", port, addr);
        if (e == EADDRNOTAVAIL)
            return hp_errf(err, "--bind %s: no interface of this machine has that address", addr);
        return hp_errf(err, "cannot listen on %s:%d: %s", addr, port, strerror(e));
    }
    if (listen(s, 8) != 0) {
        int e = errno;
        close(s);
        return hp_errf(err, "cannot listen on %s:%d: %s", addr, port, strerror(e));
    }
    *fd = s;
    return 0;
}

int hp_http_accept(int lfd, int timeout_ms, hp_err *err) {
    struct pollfd p = {.fd = lfd, .events = POLLIN};
    int n = poll(&p, 1, timeout_ms);
    if (n < 0 && errno == EINTR) return -2;
    if (n < 0) return hp_errf(err, "waiting for a client failed: %s", strerror(errno));
    if (n == 0) return -2;
    int c = accept(lfd, NULL, NULL);
    if (c < 0) {
        /* the client gave up between poll and accept, or a signal: not the server's failure */
        if (errno == EINTR || errno == ECONNABORTED || errno == EAGAIN || errno == EPROTO) return -2;
        return hp_errf(err, "accepting a client failed: %s", strerror(errno));
    }
    return c;
}

int hp_http_parse(const char *line, size_t n, hp_http_req *req) {
    memset(req, 0, sizeof *req);
    const char *end = line + n, *sp1 = memchr(line, ' ', n);
    if (!sp1 || sp1 == line || (size_t)(sp1 - line) >= sizeof req->method) return 400;
    const char *target = sp1 + 1, *sp2 = memchr(target, ' ', (size_t)(end - target));
    if (!sp2 || sp2 == target || *target != '/') return 400;
    const char *ver = sp2 + 1;
    if (memchr(ver, ' ', (size_t)(end - ver))) return 400;
    for (const char *p = line; p < sp1; p++)
        if (*p < 'A' || *p > 'Z') return 400;
    if ((size_t)(end - ver) != 8 || memcmp(ver, "HTTP/1.", 7) != 0)
        return (size_t)(end - ver) >= 5 && memcmp(ver, "HTTP/", 5) == 0 ? 505 : 400;
    size_t plen = strcspn(target, "? ");
    if (plen >= sizeof req->path) return 400;
    memcpy(req->method, line, (size_t)(sp1 - line));
    memcpy(req->path, target, plen);
    for (size_t i = 0; i < plen; i++)
        if ((unsigned char)req->path[i] < 0x21 || (unsigned char)req->path[i] > 0x7e) return 400;
    return 0;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* The end of the headers ("\r\n\r\n" or "\n\n") within buf, or NULL. */
static const char *headers_end(const char *buf, size_t n) {
    for (size_t i = 0; i + 1 < n; i++) {
        if (buf[i] == '\n' && buf[i + 1] == '\n') return buf + i;
        if (i + 3 < n && !memcmp(buf + i, "\r\n\r\n", 4)) return buf + i;
    }
    return NULL;
}

int hp_http_read(int fd, int timeout_ms, hp_http_req *req) {
    char buf[HP_HTTP_MAX_REQUEST];
    size_t n = 0;
    double deadline = now_ms() + timeout_ms;
    while (!headers_end(buf, n)) {
        if (n == sizeof buf) return 431;
        int left = (int)(deadline - now_ms());
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int k = left > 0 ? poll(&p, 1, left) : 0;
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return n ? 408 : -1; /* silent from the start: nothing to answer */
        ssize_t got = recv(fd, buf + n, sizeof buf - n, 0);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return n ? 400 : -1;
        n += (size_t)got;
    }
    size_t line = strcspn(buf, "\r\n");
    return hp_http_parse(buf, line < n ? line : n, req);
}

/* Write all of buf within timeout_ms per chunk; MSG_NOSIGNAL: a closed client is an error, not SIGPIPE. */
static int send_all(int fd, const char *buf, size_t len, int timeout_ms) {
    while (len > 0) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int k = poll(&p, 1, timeout_ms);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        ssize_t w = send(fd, buf, len, MSG_NOSIGNAL);
        if (w < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (w <= 0) return -1;
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

const char *hp_http_reason(int status) {
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Internal Server Error";
    }
}

int hp_http_send(int fd, int status, const char *ctype, const char *extra, const char *body, size_t len,
                 int head_only, int timeout_ms) {
    char head[1024];
    int h = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: no-store\r\n"
                     "Connection: close\r\n%s\r\n",
                     status, hp_http_reason(status), ctype, len, extra ? extra : "");
    if (h < 0 || (size_t)h >= sizeof head) return -1;
    if (send_all(fd, head, (size_t)h, timeout_ms) != 0) return -1;
    return head_only ? 0 : send_all(fd, body, len, timeout_ms);
}

void hp_http_close(int fd) {
    char sink[4096];
    size_t drained = 0;
    double deadline = now_ms() + 200;
    if (shutdown(fd, SHUT_WR) == 0) {
        while (drained < 65536) {
            int left = (int)(deadline - now_ms());
            struct pollfd p = {.fd = fd, .events = POLLIN};
            if (left <= 0 || poll(&p, 1, left) <= 0) break;
            ssize_t got = recv(fd, sink, sizeof sink, 0);
            if (got <= 0) break;
            drained += (size_t)got;
        }
    }
    close(fd); /* its result does not matter: the answer was sent or the client is gone */
}
