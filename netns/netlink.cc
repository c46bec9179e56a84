#include "netns/netlink.h"

#include <linux/netlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <memory>
#include <vector>

#include "base/errno.h"
#include "netns/detail.h"

namespace netns {

namespace {

// Requests are small (a veth with its peer is the largest); replies use a
// buffer large enough for the kernel's biggest dump skb.
constexpr size_t kRequestSize = 16384;
constexpr size_t kReplySize = 65536;

using SocketPtr = std::unique_ptr<mnl_socket, decltype(&mnl_socket_close)>;

SocketPtr open_socket(int bus) {
  SocketPtr sock(mnl_socket_open2(bus, SOCK_CLOEXEC), mnl_socket_close);
  if (!sock) kpath::throw_errno("open netlink socket (bus " + std::to_string(bus) + ")");
  if (mnl_socket_bind(sock.get(), 0, MNL_SOCKET_AUTOPID) < 0) kpath::throw_errno("bind netlink socket");
  // Extended ACKs carry the kernel's reason text; capped ACKs do not echo the
  // whole request back.
  int one = 1;
  mnl_socket_setsockopt(sock.get(), NETLINK_EXT_ACK, &one, sizeof one);
  mnl_socket_setsockopt(sock.get(), NETLINK_CAP_ACK, &one, sizeof one);
  return sock;
}

int store_extack_msg(const nlattr* attr, void* data) {
  if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
    *static_cast<std::string*>(data) = mnl_attr_get_str(attr);
  return MNL_CB_OK;
}

// The extended-ack message that follows the error code of an NLMSG_ERROR
// (after the echoed request unless capped) or of an NLMSG_DONE.
std::string extack_message(const nlmsghdr* nlh, size_t tlv_offset) {
  std::string msg;
  if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS)) return msg;
  size_t payload = mnl_nlmsg_get_payload_len(nlh);
  if (tlv_offset >= payload) return msg;
  const char* tlvs = static_cast<const char*>(mnl_nlmsg_get_payload(nlh)) + tlv_offset;
  mnl_attr_parse_payload(tlvs, payload - tlv_offset, store_extack_msg, &msg);
  return msg;
}

struct Outcome {
  bool finished = false;
  int error = 0;  // positive errno
  std::string extack;
};

Outcome read_error(const nlmsghdr* nlh) {
  Outcome out{true};
  if (mnl_nlmsg_get_payload_len(nlh) < sizeof(nlmsgerr)) {
    out.error = EBADMSG;
    return out;
  }
  auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
  out.error = -err->error;
  size_t offset = sizeof(nlmsgerr);
  if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) offset += err->msg.nlmsg_len - sizeof(nlmsghdr);
  out.extack = extack_message(nlh, offset);
  return out;
}

// NLMSG_DONE may carry an error code (a failed dump) and extack TLVs.
Outcome read_done(const nlmsghdr* nlh) {
  Outcome out{true};
  if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(int)) {
    out.error = -*static_cast<const int*>(mnl_nlmsg_get_payload(nlh));
    out.extack = extack_message(nlh, sizeof(int));
  }
  return out;
}

std::string describe(const std::string& what, const Outcome& out) {
  std::string text = what + ": " + kpath::error_text(out.error);
  if (!out.extack.empty()) text += " (kernel: " + out.extack + ")";
  return text;
}

}  // namespace

Netlink::Netlink(const Namespace& ns, int bus) {
  // The socket belongs to the namespace of the thread that creates it.
  sock_ = ns.run([bus] { return open_socket(bus); });
  portid_ = mnl_socket_get_portid(sock_.get());
}

nlmsghdr* Netlink::begin(uint16_t type, uint16_t flags) {
  buf_.assign(kRequestSize, '\0');
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf_.data());
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST | flags;
  if (++seq_ == 0) ++seq_;  // seq 0 would disable matching replies
  nlh->nlmsg_seq = seq_;
  return nlh;
}

namespace {

void send(mnl_socket* sock, nlmsghdr* request, const std::string& what) {
  request->nlmsg_flags |= NLM_F_ACK;
  ssize_t n = mnl_socket_sendto(sock, request, request->nlmsg_len);
  if (n < 0) kpath::throw_errno(what + ": send netlink request");
  if (static_cast<size_t>(n) != request->nlmsg_len) throw kpath::Error(what + ": short netlink send");
}

// Reads replies to request until its ACK, error or NLMSG_DONE; data messages go
// to on_message. Replies with another sequence number belong to an abandoned
// earlier request (a dump whose callback threw) and are skipped. The kernel
// addresses its answers to the requesting port; a message for any other port
// is no answer to this request: like libmnl, that is an error (ESRCH).
void receive(mnl_socket* sock, uint32_t portid, const nlmsghdr* request,
             const std::function<void(const nlmsghdr*)>& on_message, const std::string& what) {
  std::vector<char> buf(kReplySize);
  const uint32_t seq = request->nlmsg_seq;
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(sock, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      kpath::throw_errno(what + ": receive netlink reply");
    }
    int left = static_cast<int>(n);
    for (auto* nlh = reinterpret_cast<const nlmsghdr*>(buf.data()); mnl_nlmsg_ok(nlh, left);
         nlh = mnl_nlmsg_next(nlh, &left)) {
      if (nlh->nlmsg_seq != seq) continue;
      if (nlh->nlmsg_pid != portid)
        throw NetlinkError(ESRCH, what + ": reply addressed to netlink port " + std::to_string(nlh->nlmsg_pid) +
                                      ", this socket is port " + std::to_string(portid));
      Outcome out;
      switch (nlh->nlmsg_type) {
        case NLMSG_NOOP: continue;
        case NLMSG_OVERRUN: out = Outcome{true, ENOBUFS}; break;
        case NLMSG_ERROR: out = read_error(nlh); break;
        case NLMSG_DONE: out = read_done(nlh); break;
        default:
          if (on_message) on_message(nlh);
          continue;
      }
      if (out.error != 0) throw NetlinkError(out.error, describe(what, out));
      return;
    }
  }
}

}  // namespace

void Netlink::ack(nlmsghdr* request, const std::string& what) {
  send(sock_.get(), request, what);
  receive(sock_.get(), portid_, request, nullptr, what);
}

void Netlink::dump(nlmsghdr* request, const std::function<void(const nlmsghdr*)>& on_message, const std::string& what) {
  // A started dump ends with NLMSG_DONE instead of an ACK (the kernel
  // suppresses the ACK for dumps); an immediate refusal still comes as error.
  request->nlmsg_flags |= NLM_F_DUMP;
  send(sock_.get(), request, what);
  receive(sock_.get(), portid_, request, on_message, what);
}

void Netlink::query(nlmsghdr* request, const std::function<void(const nlmsghdr*)>& on_reply, const std::string& what) {
  send(sock_.get(), request, what);
  receive(sock_.get(), portid_, request, on_reply, what);
}

}  // namespace netns
