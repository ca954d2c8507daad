/*
 * kaops_raw: the few socket calls kaopsd needs that Node's own API lacks.
 *
 *   - raw IP sockets for one protocol (VRRP is 112), IPv4 and IPv6, with multicast membership,
 *     TTL/hop limit 255, SO_BINDTODEVICE, a chosen source address per send (IP_PKTINFO /
 *     IPV6_PKTINFO), and receive that reports source, destination, TTL, ifindex and payload;
 *   - an AF_PACKET socket that sends whole Ethernet frames (gratuitous ARP, unsolicited NA);
 *   - interface index and MAC by name, asked of the kernel in the caller's network namespace
 *     (sysfs shows the namespace it was mounted in, which is not always ours);
 *   - a send on a unix datagram socket (Node has none), for syslog's /dev/log.
 *
 * Receive is driven by a uv_poll on Node's own loop: the socket is non-blocking and read only
 * when the loop says it is readable, so the loop never blocks. Every failure becomes a JS Error
 * whose message names the syscall and errno, with .code / .errno / .syscall as Node sets them.
 * The addon carries bytes only; VRRP encoding and validation live in TypeScript.
 */
#define NAPI_VERSION 8
#define _GNU_SOURCE
#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define RECV_BUF 65536
/* Packets read per readable event before yielding back to the loop, so a flood cannot
 * starve timers (VRRP's own timers are what matter most). */
#define RECV_BATCH 64

enum kind { KIND_RAW = 1, KIND_PACKET = 2 };

typedef struct {
  int fd;
  int family;
  enum kind kind;
  napi_env env;
  napi_ref on_packet;
  napi_ref on_error;
  napi_async_context actx;
  uv_poll_t poll;
  int polling;    /* uv_poll_init succeeded: fd may only be closed after uv_close completes */
  int closed;     /* close() (or the finalizer) ran */
  int uv_done;    /* no uv handle outstanding */
  int finalized;  /* the JS external was collected */
} sock_t;

/* ---------- errors ---------- */

static const char *errno_name(int e) {
  switch (e) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EINTR: return "EINTR";
    case EBADF: return "EBADF";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case ENODEV: return "ENODEV";
    case EINVAL: return "EINVAL";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENOBUFS: return "ENOBUFS";
    case EMSGSIZE: return "EMSGSIZE";
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EADDRINUSE: return "EADDRINUSE";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case ENETDOWN: return "ENETDOWN";
    case ENETUNREACH: return "ENETUNREACH";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case ENXIO: return "ENXIO";
    case ENOPROTOOPT: return "ENOPROTOOPT";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ECONNREFUSED: return "ECONNREFUSED";
    case ENOTCONN: return "ENOTCONN";
    case ENOTSOCK: return "ENOTSOCK";
    case EPROTOTYPE: return "EPROTOTYPE";
    case EPIPE: return "EPIPE";
    default: return "EUNKNOWN";
  }
}

static napi_value make_errno_error(napi_env env, const char *syscall, int e) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s (%s)", syscall, strerror(e), errno_name(e));
  napi_value m, code, err, num, sc;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_string_utf8(env, errno_name(e), NAPI_AUTO_LENGTH, &code);
  napi_create_error(env, code, m, &err);
  napi_create_int32(env, -e, &num);
  napi_set_named_property(env, err, "errno", num);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sc);
  napi_set_named_property(env, err, "syscall", sc);
  return err;
}

static void throw_errno(napi_env env, const char *syscall, int e) {
  napi_throw(env, make_errno_error(env, syscall, e));
}

#define TRY(call)                                                   \
  do {                                                              \
    if ((call) != napi_ok) {                                        \
      bool pending_;                                                \
      napi_is_exception_pending(env, &pending_);                    \
      if (!pending_) napi_throw_error(env, NULL, "kaops_raw: " #call " failed"); \
      return NULL;                                                  \
    }                                                               \
  } while (0)

#define ARG_ERROR(text)                                             \
  do {                                                              \
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "kaops_raw: " text); \
    return NULL;                                                    \
  } while (0)

/* ---------- argument helpers ---------- */

static int get_int(napi_env env, napi_value v, int32_t *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) return 0;
  return napi_get_value_int32(env, v, out) == napi_ok;
}

static int get_bool(napi_env env, napi_value v, bool *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_boolean) return 0;
  return napi_get_value_bool(env, v, out) == napi_ok;
}

/* Returns 1 with out set, 0 when the value is null/undefined (out = ""), -1 when not a string. */
static int get_opt_string(napi_env env, napi_value v, char *out, size_t cap) {
  napi_valuetype t;
  out[0] = 0;
  if (napi_typeof(env, v, &t) != napi_ok) return -1;
  if (t == napi_null || t == napi_undefined) return 0;
  if (t != napi_string) return -1;
  size_t len;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok || len >= cap) return -1;
  napi_get_value_string_utf8(env, v, out, cap, &len);
  return 1;
}

static sock_t *get_sock(napi_env env, napi_value v, enum kind want) {
  napi_valuetype t;
  void *p = NULL;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external ||
      napi_get_value_external(env, v, &p) != napi_ok || p == NULL) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "kaops_raw: expected a socket handle");
    return NULL;
  }
  sock_t *s = p;
  if (s->kind != want) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "kaops_raw: wrong kind of socket handle");
    return NULL;
  }
  if (s->closed) {
    napi_throw_error(env, "ERR_SOCKET_CLOSED", "kaops_raw: socket is closed");
    return NULL;
  }
  return s;
}

/* ---------- lifetime ---------- */

static void maybe_free(sock_t *s) {
  if (s->finalized && s->uv_done) free(s);
}

static void on_uv_closed(uv_handle_t *h) {
  sock_t *s = h->data;
  close(s->fd);
  s->fd = -1;
  s->uv_done = 1;
  maybe_free(s);
}

/* Idempotent. The fd is closed only once libuv has let go of the poll handle. */
static void sock_close(napi_env env, sock_t *s) {
  if (s->closed) return;
  s->closed = 1;
  if (s->on_packet) { napi_delete_reference(env, s->on_packet); s->on_packet = NULL; }
  if (s->on_error) { napi_delete_reference(env, s->on_error); s->on_error = NULL; }
  if (s->actx) { napi_async_destroy(env, s->actx); s->actx = NULL; }
  if (s->polling) {
    uv_poll_stop(&s->poll);
    uv_close((uv_handle_t *)&s->poll, on_uv_closed);
  } else {
    if (s->fd >= 0) close(s->fd);
    s->fd = -1;
    s->uv_done = 1;
  }
}

static void finalize_sock(napi_env env, void *data, void *hint) {
  (void)hint;
  sock_t *s = data;
  sock_close(env, s);
  s->finalized = 1;
  maybe_free(s);
}

/* ---------- receive ---------- */

/* Calls a JS callback from a libuv callback; an exception it throws becomes an uncaught
 * exception of the process, as it would for any other Node event. */
static void call_js(sock_t *s, napi_ref fn_ref, size_t argc, napi_value *argv) {
  napi_env env = s->env;
  napi_value fn, recv, result;
  if (!fn_ref || napi_get_reference_value(env, fn_ref, &fn) != napi_ok || fn == NULL) return;
  /* napi_make_callback wants an object as `this`; undefined makes it throw. */
  napi_get_global(env, &recv);
  napi_status st = napi_make_callback(env, s->actx, recv, fn, argc, argv, &result);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (st != napi_ok || pending) {
    napi_value exc;
    if (pending && napi_get_and_clear_last_exception(env, &exc) == napi_ok) napi_fatal_exception(env, exc);
  }
}

static void report_error(sock_t *s, const char *syscall, int e) {
  napi_value err = make_errno_error(s->env, syscall, e);
  call_js(s, s->on_error, 1, &err);
}

static void deliver(sock_t *s, const char *src, const char *dst, int ttl, int ifindex,
                    const unsigned char *payload, size_t len) {
  napi_env env = s->env;
  napi_value argv[5];
  void *copy;
  napi_create_string_utf8(env, src, NAPI_AUTO_LENGTH, &argv[0]);
  napi_create_string_utf8(env, dst, NAPI_AUTO_LENGTH, &argv[1]);
  napi_create_int32(env, ttl, &argv[2]);
  napi_create_int32(env, ifindex, &argv[3]);
  napi_create_buffer_copy(env, len, payload, &copy, &argv[4]);
  call_js(s, s->on_packet, 5, argv);
}

static void read_one_batch(sock_t *s) {
  static unsigned char buf[RECV_BUF];
  for (int i = 0; i < RECV_BATCH && !s->closed; i++) {
    struct sockaddr_storage from;
    char cbuf[256];
    struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf};
    struct msghdr msg = {
        .msg_name = &from, .msg_namelen = sizeof from,
        .msg_iov = &iov, .msg_iovlen = 1,
        .msg_control = cbuf, .msg_controllen = sizeof cbuf,
    };
    ssize_t n = recvmsg(s->fd, &msg, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) report_error(s, "recvmsg", errno);
      return;
    }
    if (msg.msg_flags & MSG_TRUNC) continue; /* larger than any VRRP packet: not ours */

    char src[INET6_ADDRSTRLEN] = "", dst[INET6_ADDRSTRLEN] = "";
    int ttl = -1, ifindex = 0;
    const unsigned char *payload;
    size_t plen;

    napi_handle_scope scope;
    napi_open_handle_scope(s->env, &scope);
    if (s->family == AF_INET) {
      /* IPv4 raw sockets hand us the IP header: TTL, source and destination come from it. */
      if (n < 20) goto next;
      size_t ihl = (size_t)(buf[0] & 0x0f) * 4;
      if (ihl < 20 || (size_t)n < ihl) goto next;
      ttl = buf[8];
      inet_ntop(AF_INET, buf + 12, src, sizeof src);
      inet_ntop(AF_INET, buf + 16, dst, sizeof dst);
      for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
          struct in_pktinfo pi;
          memcpy(&pi, CMSG_DATA(c), sizeof pi);
          ifindex = pi.ipi_ifindex;
        }
      }
      payload = buf + ihl;
      plen = (size_t)n - ihl;
    } else {
      /* IPv6 raw sockets give the payload only; the rest arrives as ancillary data. */
      struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&from;
      inet_ntop(AF_INET6, &sin6->sin6_addr, src, sizeof src);
      for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != IPPROTO_IPV6) continue;
        if (c->cmsg_type == IPV6_PKTINFO) {
          struct in6_pktinfo pi;
          memcpy(&pi, CMSG_DATA(c), sizeof pi);
          inet_ntop(AF_INET6, &pi.ipi6_addr, dst, sizeof dst);
          ifindex = (int)pi.ipi6_ifindex;
        } else if (c->cmsg_type == IPV6_HOPLIMIT) {
          memcpy(&ttl, CMSG_DATA(c), sizeof ttl);
        }
      }
      payload = buf;
      plen = (size_t)n;
    }
    deliver(s, src, dst, ttl, ifindex, payload, plen);
  next:
    napi_close_handle_scope(s->env, scope);
  }
}

static void on_poll(uv_poll_t *h, int status, int events) {
  (void)events;
  sock_t *s = h->data;
  if (s->closed) return;
  napi_handle_scope scope;
  napi_open_handle_scope(s->env, &scope);
  if (status < 0) {
    napi_value err;
    char msg[160];
    snprintf(msg, sizeof msg, "uv_poll: %s", uv_strerror(status));
    napi_value m;
    napi_create_string_utf8(s->env, msg, NAPI_AUTO_LENGTH, &m);
    napi_create_error(s->env, NULL, m, &err);
    call_js(s, s->on_error, 1, &err);
  } else {
    read_one_batch(s);
  }
  napi_close_handle_scope(s->env, scope);
}

/* ---------- raw IP sockets ---------- */

static int set_int(int fd, int level, int opt, int value) {
  return setsockopt(fd, level, opt, &value, sizeof value);
}

/* rawOpen(family: 4|6, protocol: number, ifname: string|null, onPacket, onError) -> handle */
static napi_value raw_open(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  TRY(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fam, proto;
  char ifname[IF_NAMESIZE + 1];
  if (argc < 5 || !get_int(env, argv[0], &fam) || (fam != 4 && fam != 6)) ARG_ERROR("family must be 4 or 6");
  if (!get_int(env, argv[1], &proto) || proto < 1 || proto > 255) ARG_ERROR("protocol must be 1..255");
  int has_if = get_opt_string(env, argv[2], ifname, sizeof ifname);
  if (has_if < 0) ARG_ERROR("ifname must be a string of at most 15 bytes, or null");
  napi_valuetype t1, t2;
  napi_typeof(env, argv[3], &t1);
  napi_typeof(env, argv[4], &t2);
  if (t1 != napi_function || t2 != napi_function) ARG_ERROR("onPacket and onError must be functions");

  int family = fam == 4 ? AF_INET : AF_INET6;
  int fd = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
  if (fd < 0) {
    char sc[64];
    snprintf(sc, sizeof sc, "socket(%s, SOCK_RAW, %d)", fam == 4 ? "AF_INET" : "AF_INET6", proto);
    throw_errno(env, sc, errno);
    return NULL;
  }
  const char *failed = NULL;
  if (has_if == 1 && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, strlen(ifname) + 1) < 0)
    failed = "setsockopt(SO_BINDTODEVICE)";
  /* TTL / hop limit 255 for both multicast and unicast: receivers drop anything less
   * (RFC 5798 5.1.1.3), which is how VRRP proves a packet was not routed. */
  else if (fam == 4) {
    if (set_int(fd, IPPROTO_IP, IP_MULTICAST_TTL, 255) < 0) failed = "setsockopt(IP_MULTICAST_TTL)";
    else if (set_int(fd, IPPROTO_IP, IP_TTL, 255) < 0) failed = "setsockopt(IP_TTL)";
    else if (set_int(fd, IPPROTO_IP, IP_MULTICAST_LOOP, 0) < 0) failed = "setsockopt(IP_MULTICAST_LOOP)";
    else if (set_int(fd, IPPROTO_IP, IP_PKTINFO, 1) < 0) failed = "setsockopt(IP_PKTINFO)";
    /* Internetwork-control precedence, as routers (and keepalived) mark their protocol traffic
     * so that queues shed it last. */
    else if (set_int(fd, IPPROTO_IP, IP_TOS, 0xc0) < 0) failed = "setsockopt(IP_TOS)";
  } else {
    if (set_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 255) < 0) failed = "setsockopt(IPV6_MULTICAST_HOPS)";
    else if (set_int(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 255) < 0) failed = "setsockopt(IPV6_UNICAST_HOPS)";
    else if (set_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0) < 0) failed = "setsockopt(IPV6_MULTICAST_LOOP)";
    else if (set_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1) < 0) failed = "setsockopt(IPV6_RECVPKTINFO)";
    else if (set_int(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1) < 0) failed = "setsockopt(IPV6_RECVHOPLIMIT)";
  }
  if (failed) {
    int e = errno;
    close(fd);
    throw_errno(env, failed, e);
    return NULL;
  }

  sock_t *s = calloc(1, sizeof *s);
  if (!s) { close(fd); throw_errno(env, "calloc", ENOMEM); return NULL; }
  s->fd = fd;
  s->family = family;
  s->kind = KIND_RAW;
  s->env = env;
  s->uv_done = 1;
  napi_value handle, name;
  if (napi_create_external(env, s, finalize_sock, NULL, &handle) != napi_ok) {
    close(fd);
    free(s);
    napi_throw_error(env, NULL, "kaops_raw: napi_create_external failed");
    return NULL;
  }
  /* From here the finalizer owns s, so early returns leak nothing. */
  TRY(napi_create_reference(env, argv[3], 1, &s->on_packet));
  TRY(napi_create_reference(env, argv[4], 1, &s->on_error));
  TRY(napi_create_string_utf8(env, "kaops_raw.socket", NAPI_AUTO_LENGTH, &name));
  TRY(napi_async_init(env, NULL, name, &s->actx));

  uv_loop_t *loop;
  TRY(napi_get_uv_event_loop(env, &loop));
  int r = uv_poll_init_socket(loop, &s->poll, fd);
  if (r < 0) {
    sock_close(env, s);
    napi_throw_error(env, NULL, uv_strerror(r));
    return NULL;
  }
  s->poll.data = s;
  s->polling = 1;
  s->uv_done = 0;
  r = uv_poll_start(&s->poll, UV_READABLE, on_poll);
  if (r < 0) {
    sock_close(env, s);
    napi_throw_error(env, NULL, uv_strerror(r));
    return NULL;
  }
  return handle;
}

static int parse_addr(int family, const char *text, void *out) {
  return inet_pton(family, text, out) == 1;
}

/* rawMembership(handle, group: string, ifindex: number, join: boolean) */
static napi_value raw_membership(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  TRY(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4) ARG_ERROR("rawMembership(handle, group, ifindex, join)");
  sock_t *s = get_sock(env, argv[0], KIND_RAW);
  if (!s) return NULL;
  char group[INET6_ADDRSTRLEN];
  int32_t ifindex;
  bool join;
  if (get_opt_string(env, argv[1], group, sizeof group) != 1) ARG_ERROR("group must be an address string");
  if (!get_int(env, argv[2], &ifindex) || ifindex < 0) ARG_ERROR("ifindex must be a non-negative integer");
  if (!get_bool(env, argv[3], &join)) ARG_ERROR("join must be a boolean");
  if (s->family == AF_INET) {
    struct ip_mreqn m = {0};
    if (!parse_addr(AF_INET, group, &m.imr_multiaddr)) ARG_ERROR("group is not an IPv4 address");
    m.imr_ifindex = ifindex;
    int opt = join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP;
    if (setsockopt(s->fd, IPPROTO_IP, opt, &m, sizeof m) < 0) {
      throw_errno(env, join ? "setsockopt(IP_ADD_MEMBERSHIP)" : "setsockopt(IP_DROP_MEMBERSHIP)", errno);
      return NULL;
    }
  } else {
    struct ipv6_mreq m = {0};
    if (!parse_addr(AF_INET6, group, &m.ipv6mr_multiaddr)) ARG_ERROR("group is not an IPv6 address");
    m.ipv6mr_interface = (unsigned)ifindex;
    int opt = join ? IPV6_ADD_MEMBERSHIP : IPV6_DROP_MEMBERSHIP;
    if (setsockopt(s->fd, IPPROTO_IPV6, opt, &m, sizeof m) < 0) {
      throw_errno(env, join ? "setsockopt(IPV6_ADD_MEMBERSHIP)" : "setsockopt(IPV6_DROP_MEMBERSHIP)", errno);
      return NULL;
    }
  }
  return NULL;
}

/* rawMulticastInterface(handle, ifindex) */
static napi_value raw_multicast_if(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  TRY(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) ARG_ERROR("rawMulticastInterface(handle, ifindex)");
  sock_t *s = get_sock(env, argv[0], KIND_RAW);
  if (!s) return NULL;
  int32_t ifindex;
  if (!get_int(env, argv[1], &ifindex) || ifindex < 0) ARG_ERROR("ifindex must be a non-negative integer");
  if (s->family == AF_INET) {
    struct ip_mreqn m = {0};
    m.imr_ifindex = ifindex;
    if (setsockopt(s->fd, IPPROTO_IP, IP_MULTICAST_IF, &m, sizeof m) < 0) {
      throw_errno(env, "setsockopt(IP_MULTICAST_IF)", errno);
      return NULL;
    }
  } else if (set_int(s->fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, ifindex) < 0) {
    throw_errno(env, "setsockopt(IPV6_MULTICAST_IF)", errno);
    return NULL;
  }
  return NULL;
}

/* rawMulticastLoop(handle, on): off by default; on only for tests that send and listen in one
 * namespace. */
static napi_value raw_multicast_loop(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  TRY(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) ARG_ERROR("rawMulticastLoop(handle, on)");
  sock_t *s = get_sock(env, argv[0], KIND_RAW);
  if (!s) return NULL;
  bool on;
  if (!get_bool(env, argv[1], &on)) ARG_ERROR("on must be a boolean");
  int r = s->family == AF_INET ? set_int(s->fd, IPPROTO_IP, IP_MULTICAST_LOOP, on)
                               : set_int(s->fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, on);
  if (r < 0) {
    throw_errno(env, s->family == AF_INET ? "setsockopt(IP_MULTICAST_LOOP)" : "setsockopt(IPV6_MULTICAST_LOOP)", errno);
    return NULL;
  }
  return NULL;
}

/* rawSend(handle, dst: string, src: string|null, ifindex: number, payload: Buffer) -> bytes */
static napi_value raw_send(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  TRY(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) ARG_ERROR("rawSend(handle, dst, src, ifindex, payload)");
  sock_t *s = get_sock(env, argv[0], KIND_RAW);
  if (!s) return NULL;
  char dst[INET6_ADDRSTRLEN], src[INET6_ADDRSTRLEN];
  int32_t ifindex;
  bool is_buf;
  void *data;
  size_t len;
  if (get_opt_string(env, argv[1], dst, sizeof dst) != 1) ARG_ERROR("dst must be an address string");
  int has_src = get_opt_string(env, argv[2], src, sizeof src);
  if (has_src < 0) ARG_ERROR("src must be an address string or null");
  if (!get_int(env, argv[3], &ifindex) || ifindex < 0) ARG_ERROR("ifindex must be a non-negative integer");
  if (napi_is_buffer(env, argv[4], &is_buf) != napi_ok || !is_buf) ARG_ERROR("payload must be a Buffer");
  TRY(napi_get_buffer_info(env, argv[4], &data, &len));

  union { struct cmsghdr align; char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(int))]; } cbuf;
  memset(&cbuf, 0, sizeof cbuf);
  struct iovec iov = {.iov_base = data, .iov_len = len};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
  struct sockaddr_in sin = {0};
  struct sockaddr_in6 sin6 = {0};

  if (s->family == AF_INET) {
    sin.sin_family = AF_INET;
    if (!parse_addr(AF_INET, dst, &sin.sin_addr)) ARG_ERROR("dst is not an IPv4 address");
    msg.msg_name = &sin;
    msg.msg_namelen = sizeof sin;
    if (has_src == 1 || ifindex > 0) {
      /* IP_PKTINFO picks the source address and the outgoing interface for this one packet, so
       * one socket serves every instance on a host without IP_HDRINCL. */
      struct in_pktinfo pi = {0};
      if (has_src == 1 && !parse_addr(AF_INET, src, &pi.ipi_spec_dst)) ARG_ERROR("src is not an IPv4 address");
      pi.ipi_ifindex = ifindex;
      msg.msg_control = cbuf.buf;
      msg.msg_controllen = CMSG_SPACE(sizeof pi);
      struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = IPPROTO_IP;
      c->cmsg_type = IP_PKTINFO;
      c->cmsg_len = CMSG_LEN(sizeof pi);
      memcpy(CMSG_DATA(c), &pi, sizeof pi);
    }
  } else {
    sin6.sin6_family = AF_INET6;
    if (!parse_addr(AF_INET6, dst, &sin6.sin6_addr)) ARG_ERROR("dst is not an IPv6 address");
    /* Link-local and multicast destinations need the interface as scope. */
    sin6.sin6_scope_id = (uint32_t)ifindex;
    msg.msg_name = &sin6;
    msg.msg_namelen = sizeof sin6;
    struct in6_pktinfo pi;
    memset(&pi, 0, sizeof pi);
    if (has_src == 1 && !parse_addr(AF_INET6, src, &pi.ipi6_addr)) ARG_ERROR("src is not an IPv6 address");
    pi.ipi6_ifindex = (unsigned)ifindex;
    int hops = 255;
    msg.msg_control = cbuf.buf;
    msg.msg_controllen = CMSG_SPACE(sizeof pi) + CMSG_SPACE(sizeof hops);
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = IPPROTO_IPV6;
    c->cmsg_type = IPV6_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof pi);
    memcpy(CMSG_DATA(c), &pi, sizeof pi);
    c = CMSG_NXTHDR(&msg, c);
    c->cmsg_level = IPPROTO_IPV6;
    c->cmsg_type = IPV6_HOPLIMIT;
    c->cmsg_len = CMSG_LEN(sizeof hops);
    memcpy(CMSG_DATA(c), &hops, sizeof hops);
  }
  ssize_t n;
  do n = sendmsg(s->fd, &msg, MSG_DONTWAIT); while (n < 0 && errno == EINTR);
  if (n < 0) {
    throw_errno(env, "sendmsg", errno);
    return NULL;
  }
  napi_value out;
  TRY(napi_create_int64(env, n, &out));
  return out;
}

/* ---------- AF_PACKET ---------- */

/* packetOpen() -> handle. Protocol 0: the socket sends only and never queues received frames. */
static napi_value packet_open(napi_env env, napi_callback_info info) {
  (void)info;
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw_errno(env, "socket(AF_PACKET, SOCK_RAW, 0)", errno);
    return NULL;
  }
  sock_t *s = calloc(1, sizeof *s);
  if (!s) { close(fd); throw_errno(env, "calloc", ENOMEM); return NULL; }
  s->fd = fd;
  s->family = AF_PACKET;
  s->kind = KIND_PACKET;
  s->env = env;
  s->uv_done = 1;
  napi_value handle;
  if (napi_create_external(env, s, finalize_sock, NULL, &handle) != napi_ok) {
    close(fd);
    free(s);
    napi_throw_error(env, NULL, "kaops_raw: napi_create_external failed");
    return NULL;
  }
  return handle;
}

/* packetSend(handle, ifindex, frame: Buffer) -> bytes. frame is a whole Ethernet II frame. */
static napi_value packet_send(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  TRY(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) ARG_ERROR("packetSend(handle, ifindex, frame)");
  sock_t *s = get_sock(env, argv[0], KIND_PACKET);
  if (!s) return NULL;
  int32_t ifindex;
  bool is_buf;
  unsigned char *data;
  size_t len;
  if (!get_int(env, argv[1], &ifindex) || ifindex <= 0) ARG_ERROR("ifindex must be a positive integer");
  if (napi_is_buffer(env, argv[2], &is_buf) != napi_ok || !is_buf) ARG_ERROR("frame must be a Buffer");
  TRY(napi_get_buffer_info(env, argv[2], (void **)&data, &len));
  if (len < 14) ARG_ERROR("frame must hold at least an Ethernet header (14 bytes)");
  struct sockaddr_ll ll = {0};
  ll.sll_family = AF_PACKET;
  ll.sll_ifindex = ifindex;
  ll.sll_halen = 6;
  memcpy(ll.sll_addr, data, 6);
  memcpy(&ll.sll_protocol, data + 12, 2); /* already in network order */
  ssize_t n;
  do n = sendto(s->fd, data, len, 0, (struct sockaddr *)&ll, sizeof ll); while (n < 0 && errno == EINTR);
  if (n < 0) {
    throw_errno(env, "sendto(AF_PACKET)", errno);
    return NULL;
  }
  napi_value out;
  TRY(napi_create_int64(env, n, &out));
  return out;
}

/* ---------- shared ---------- */

/* close(handle): idempotent. */
static napi_value sock_close_js(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  TRY(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *p = NULL;
  napi_valuetype t;
  if (argc < 1 || napi_typeof(env, argv[0], &t) != napi_ok || t != napi_external ||
      napi_get_value_external(env, argv[0], &p) != napi_ok || !p)
    ARG_ERROR("close(handle)");
  sock_close(env, p);
  return NULL;
}

/* setRef(handle, on): whether an open receiving socket keeps the process alive. */
static napi_value sock_set_ref(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  TRY(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) ARG_ERROR("setRef(handle, on)");
  sock_t *s = get_sock(env, argv[0], KIND_RAW);
  if (!s) return NULL;
  bool on;
  if (!get_bool(env, argv[1], &on)) ARG_ERROR("on must be a boolean");
  if (s->polling) {
    if (on) uv_ref((uv_handle_t *)&s->poll);
    else uv_unref((uv_handle_t *)&s->poll);
  }
  return NULL;
}

/* interfaceInfo(name) -> {ifindex, mac: Buffer} from the kernel, in this network namespace. */
static napi_value interface_info(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  TRY(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char name[IF_NAMESIZE + 1];
  if (argc < 1 || get_opt_string(env, argv[0], name, sizeof name) != 1 || name[0] == 0 || strlen(name) >= IF_NAMESIZE)
    ARG_ERROR("interface name must be a string of 1..15 bytes");
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw_errno(env, "socket(AF_INET, SOCK_DGRAM, 0)", errno);
    return NULL;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, name, strlen(name));
  if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0) {
    int e = errno;
    close(fd);
    char sc[64];
    snprintf(sc, sizeof sc, "ioctl(SIOCGIFINDEX, %s)", name);
    throw_errno(env, sc, e);
    return NULL;
  }
  int ifindex = ifr.ifr_ifindex;
  if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
    int e = errno;
    close(fd);
    char sc[64];
    snprintf(sc, sizeof sc, "ioctl(SIOCGIFHWADDR, %s)", name);
    throw_errno(env, sc, e);
    return NULL;
  }
  close(fd);
  napi_value out, idx, mac;
  void *copy;
  TRY(napi_create_object(env, &out));
  TRY(napi_create_int32(env, ifindex, &idx));
  TRY(napi_create_buffer_copy(env, 6, ifr.ifr_hwaddr.sa_data, &copy, &mac));
  TRY(napi_set_named_property(env, out, "ifindex", idx));
  TRY(napi_set_named_property(env, out, "mac", mac));
  return out;
}

/* ---------- unix datagram (syslog) ---------- */

/* One connected AF_UNIX datagram socket kept between calls, so each syslog line is one send()
 * and not socket() + connect() + send(). It is process-wide (kaopsd has one syslog), and is
 * dropped and connected afresh when the path changes or a send fails for any reason but a full
 * queue: syslogd restarting replaces /dev/log, and the old connection then refuses. */
static int dgram_fd = -1;
static char dgram_path[sizeof(((struct sockaddr_un *)0)->sun_path)];

static void dgram_drop(void) {
  if (dgram_fd >= 0) close(dgram_fd);
  dgram_fd = -1;
  dgram_path[0] = 0;
}

/* Returns NULL on success, else the failed syscall's name with errno set. */
static const char *dgram_connect(const char *path) {
  struct sockaddr_un sun;
  memset(&sun, 0, sizeof sun);
  sun.sun_family = AF_UNIX;
  memcpy(sun.sun_path, path, strlen(path));
  /* CLOEXEC: notify scripts must not inherit the daemon's syslog connection. */
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "socket(AF_UNIX, SOCK_DGRAM, 0)";
  if (connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    return "connect(AF_UNIX)";
  }
  dgram_fd = fd;
  memcpy(dgram_path, path, strlen(path) + 1);
  return NULL;
}

/* unixDgramSend(path: string, data: Buffer) -> bytes. Never blocks: a full receive queue throws
 * EAGAIN (the caller drops the line); any other failure reconnects once and retries. */
static napi_value unix_dgram_send(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  TRY(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char path[sizeof dgram_path];
  bool is_buf;
  void *data;
  size_t len;
  if (argc < 2 || get_opt_string(env, argv[0], path, sizeof path) != 1 || path[0] == 0)
    ARG_ERROR("path must be a non-empty string shorter than 108 bytes");
  if (napi_is_buffer(env, argv[1], &is_buf) != napi_ok || !is_buf) ARG_ERROR("data must be a Buffer");
  TRY(napi_get_buffer_info(env, argv[1], &data, &len));
  for (int attempt = 0;; attempt++) {
    if (dgram_fd < 0 || strcmp(path, dgram_path) != 0) {
      dgram_drop();
      const char *failed = dgram_connect(path);
      if (failed) {
        throw_errno(env, failed, errno);
        return NULL;
      }
    }
    ssize_t n;
    do n = send(dgram_fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
    if (n >= 0) {
      napi_value out;
      TRY(napi_create_int64(env, n, &out));
      return out;
    }
    int e = errno;
    /* A full queue or an oversized line says nothing about the connection: keep it. */
    int keep = e == EAGAIN || e == EWOULDBLOCK || e == EMSGSIZE;
    if (!keep) dgram_drop();
    if (keep || attempt >= 1) {
      throw_errno(env, "send(AF_UNIX)", e);
      return NULL;
    }
  }
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"rawOpen", NULL, raw_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"rawMembership", NULL, raw_membership, NULL, NULL, NULL, napi_enumerable, NULL},
      {"rawMulticastInterface", NULL, raw_multicast_if, NULL, NULL, NULL, napi_enumerable, NULL},
      {"rawMulticastLoop", NULL, raw_multicast_loop, NULL, NULL, NULL, napi_enumerable, NULL},
      {"rawSend", NULL, raw_send, NULL, NULL, NULL, napi_enumerable, NULL},
      {"packetOpen", NULL, packet_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"packetSend", NULL, packet_send, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, sock_close_js, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setRef", NULL, sock_set_ref, NULL, NULL, NULL, napi_enumerable, NULL},
      {"interfaceInfo", NULL, interface_info, NULL, NULL, NULL, napi_enumerable, NULL},
      {"unixDgramSend", NULL, unix_dgram_send, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
