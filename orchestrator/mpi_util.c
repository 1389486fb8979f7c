/* mpi_util.c - see mpi_util.h */
#include "mpi_util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

int hp_mpi_check(int rc, const char *what, hp_err *err) {
    if (rc == MPI_SUCCESS) return 0;
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, msg, &len) != MPI_SUCCESS) len = 0;
    msg[len] = '\0';
    return hp_errf(err, "%s failed: %s (MPI error %d)", what, len ? msg : "unknown", rc);
}

void hp_sleep_us(long us) {
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

int hp_mpi_probe(int source, int tag, MPI_Comm comm, int *flag, MPI_Status *status, hp_err *err) {
    return hp_mpi_check(MPI_Iprobe(source, tag, comm, flag, status), "MPI_Iprobe", err);
}

int hp_mpi_wait_probe(int source, int tag, MPI_Comm comm, MPI_Status *status, hp_err *err) {
    long backoff = 20;
    for (;;) {
        int flag = 0;
        if (hp_mpi_probe(source, tag, comm, &flag, status, err) != 0) return -1;
        if (flag) return 0;
        hp_sleep_us(backoff);
        if (backoff < 1000) backoff *= 2;
    }
}

int hp_mpi_wait_probe_until(int source, int tag, MPI_Comm comm, const volatile sig_atomic_t *flag,
                            MPI_Status *status, hp_err *err) {
    long backoff = 20;
    for (;;) {
        int got = 0;
        if (hp_mpi_probe(source, tag, comm, &got, status, err) != 0) return -1;
        if (got) return 1;
        if (flag && *flag) return 0;
        hp_sleep_us(backoff);
        if (backoff < 1000) backoff *= 2;
    }
}

int hp_mpi_recv_bytes(void *buf, int bytes, int source, int tag, MPI_Comm comm, hp_err *err) {
    MPI_Status st;
    if (hp_mpi_wait_probe(source, tag, comm, &st, err) != 0) return -1;
    int count = 0;
    if (hp_mpi_check(MPI_Get_count(&st, MPI_BYTE, &count), "MPI_Get_count", err) != 0) return -1;
    if (count != bytes)
        return hp_errf(err,
                       "message with tag %d from rank %d has %d bytes, expected %d: are all ranks running "
                       "the same hpsweep build?",
                       tag, st.MPI_SOURCE, count, bytes);
    return hp_mpi_check(MPI_Recv(buf, bytes, MPI_BYTE, st.MPI_SOURCE, tag, comm, MPI_STATUS_IGNORE),
                        "MPI_Recv", err);
}

int hp_mpi_send_bytes(const void *buf, int bytes, int dest, int tag, MPI_Comm comm, hp_err *err) {
    return hp_mpi_check(MPI_Send(buf, bytes, MPI_BYTE, dest, tag, comm), "MPI_Send", err);
}

int hp_mpi_launched(void) {
    const char *force = getenv("HPSWEEP_MPI");
    if (force && force[0]) return strcmp(force, "0") != 0;
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (getenv(vars[i])) return 1;
    return 0;
}

int hp_mpi_node_rank(MPI_Comm comm, int *local_rank, int *local_size, hp_err *err) {
    if (comm == MPI_COMM_NULL) return *local_rank = 0, *local_size = 1, 0;
    MPI_Comm node;
    if (hp_mpi_check(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node),
                     "MPI_Comm_split_type(MPI_COMM_TYPE_SHARED)", err) != 0)
        return -1;
    int rc = hp_mpi_check(MPI_Comm_rank(node, local_rank), "MPI_Comm_rank", err);
    if (rc == 0) rc = hp_mpi_check(MPI_Comm_size(node, local_size), "MPI_Comm_size", err);
    int rc2 = hp_mpi_check(MPI_Comm_free(&node), "MPI_Comm_free", rc == 0 ? err : NULL);
    return rc != 0 ? rc : rc2;
}
