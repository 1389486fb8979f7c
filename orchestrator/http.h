/* http.h - the smallest HTTP/1.1 server `hpsweep serve` needs, on POSIX sockets: listen on one
 * IPv4 address and port, accept one client at a time, read one request with a size bound and a
 * deadline (a slow or hostile client cannot hang the server), answer it, close the connection.
 *
 * No keep-alive, no chunked bodies, no request bodies: a request is its request line and headers
 * (at most HP_HTTP_MAX_REQUEST bytes, read within the caller's deadline). Every error names the
 * address and port and, where there is one, the fix.
 */
#ifndef HP_HTTP_H
#define HP_HTTP_H

#include <stddef.h>

#include "hp_err.h"

#define HP_HTTP_MAX_REQUEST 8192 /* request line and headers, bytes */

typedef struct hp_http_req {
    char method[16];
    char path[1024]; /* the target without its query string */
} hp_http_req;

/* Listen on addr:port (addr an IPv4 address such as 127.0.0.1 or 0.0.0.0). *fd gets the socket.
 * Errors: an address that does not parse, a port in use, a privileged port. */
int hp_http_listen(const char *addr, int port, int *fd, hp_err *err);

/* Wait up to timeout_ms for a client. Returns its socket, -2 when none came (or a signal
 * interrupted the wait: the caller checks its flag), -1 on an error (err set). */
int hp_http_accept(int lfd, int timeout_ms, hp_err *err);

/* Parse a request line ("GET /path?q HTTP/1.1"). Returns 0, or the HTTP status to answer:
 * 400 (malformed) or 505 (not HTTP/1.x). */
int hp_http_parse(const char *line, size_t n, hp_http_req *req);

/* Read one request's line and headers from fd within timeout_ms, and parse it. Returns 0, the
 * status to answer (400, 408 timed out, 431 too large, 505), or -1 when the client went away. */
int hp_http_read(int fd, int timeout_ms, hp_http_req *req);

/* Send a whole response (status line, Content-Type, Content-Length, Cache-Control: no-store,
 * Connection: close, `extra` header lines each ending in CRLF, may be NULL, then the body unless
 * head_only). Gives up after timeout_ms per write. 0, or -1 when the client is gone. */
int hp_http_send(int fd, int status, const char *ctype, const char *extra, const char *body, size_t len,
                 int head_only, int timeout_ms);

/* End a connection after the answer: shut down our side, read and drop what the client still
 * sends (at most 64 KiB, for at most 200 ms: an answer to an oversized request is not lost to a
 * reset), close. */
void hp_http_close(int fd);

/* "OK", "Not Found", ... for the statuses used here. */
const char *hp_http_reason(int status);

#endif
