/* The cost of one stop of a traced system call, for bench/trace.sh: N
 * stat(2) calls of a missing path, plain, then stopped by a seccomp filter
 * under ptrace (SECCOMP_RET_TRACE, what --trace-inputs uses), then under
 * seccomp user notification (SECCOMP_RET_USER_NOTIF with CONTINUE and, if
 * the kernel has it, synchronous wake-up): the tracer in each case reads
 * the path from the tracee's memory, as cachecmd does. */
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define N 20000
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void calls(const char *what) {
    struct stat st;
    double start = now();
    for (int i = 0; i < N; i++) syscall(SYS_newfstatat, AT_FDCWD, "/nonexistent/x", &st, 0);
    printf("%-28s %6.2f us per call\n", what, (now() - start) / N * 1e6);
    fflush(stdout);
}

static void install(unsigned ret, unsigned flags, int *fd) {
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_newfstatat, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, ret),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {4, f};
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    int r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
    if (fd) *fd = r;
}

static void read_path(pid_t pid, unsigned long long addr) {
    char buf[256];
    struct iovec local = {buf, sizeof buf}, remote = {(void *)addr, 64};
    process_vm_readv(pid, &local, 1, &remote, 1, 0);
}

int main(void) {
    calls("plain");
    int go[2], st;
    pipe(go);
    pid_t child = fork();
    if (child == 0) {
        char b;
        read(go[0], &b, 1);
        install(SECCOMP_RET_TRACE, 0, NULL);
        calls("seccomp + ptrace stop");
        _exit(0);
    }
    ptrace(PTRACE_SEIZE, child, 0, PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL);
    write(go[1], "G", 1);
    while (waitpid(child, &st, __WALL) > 0 && !WIFEXITED(st)) {
        struct __ptrace_syscall_info info;
        ptrace(PTRACE_GET_SYSCALL_INFO, child, sizeof info, &info);
        read_path(child, info.seccomp.args[1]);
        ptrace(PTRACE_CONT, child, 0, 0);
    }
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    child = fork();
    char control[CMSG_SPACE(sizeof(int))];
    char byte = 'x';
    struct iovec io = {&byte, 1};
    struct msghdr msg = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
    if (child == 0) {
        int fd;
        install(SECCOMP_RET_USER_NOTIF, SECCOMP_FILTER_FLAG_NEW_LISTENER, &fd);
        struct cmsghdr *h = CMSG_FIRSTHDR(&msg);
        h->cmsg_level = SOL_SOCKET;
        h->cmsg_type = SCM_RIGHTS;
        h->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(h), &fd, sizeof fd);
        sendmsg(sv[0], &msg, 0);
        close(fd);
        read(sv[0], &byte, 1);
        calls("seccomp user notification");
        _exit(0);
    }
    recvmsg(sv[1], &msg, 0);
    int fd;
    memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof fd);
    unsigned long long sync_wake_up = 1; /* SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP, Linux 6.6 */
    ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, sync_wake_up);
    write(sv[1], "G", 1);
    for (;;) {
        struct seccomp_notif req;
        struct seccomp_notif_resp resp;
        memset(&req, 0, sizeof req);
        if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req)) break;
        read_path(req.pid, req.data.args[1]);
        memset(&resp, 0, sizeof resp);
        resp.id = req.id;
        resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
    }
    waitpid(child, &st, 0);
    return 0;
}
