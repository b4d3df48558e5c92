#include "cni/builtin/netlink.h"

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>

namespace berth::cni {
namespace {

using MessageCallback = std::function<void(const nlmsghdr*)>;
using AttributeCallback = std::function<void(const nlattr*)>;

// A kernel reply that takes longer than this means something is badly wrong; fail instead of
// hanging a CRI call forever.
constexpr int kReplyTimeoutSeconds = 10;
constexpr size_t kReceiveBufferSize = 32768;  // big enough for any single dump datagram

// One request under construction: room for the header, a fixed struct and a few attributes.
struct Request {
  alignas(nlmsghdr) char data[4096] = {};

  nlmsghdr* Start(uint16_t type, uint16_t flags) {
    nlmsghdr* header = mnl_nlmsg_put_header(data);
    header->nlmsg_type = type;
    header->nlmsg_flags = flags;
    return header;
  }
};

int OnMessage(const nlmsghdr* message, void* data) {
  const auto& callback = *static_cast<const MessageCallback*>(data);
  if (callback) callback(message);
  return MNL_CB_OK;
}

int OnAttribute(const nlattr* attribute, void* data) {
  (*static_cast<const AttributeCallback*>(data))(attribute);
  return MNL_CB_OK;
}

void ForEachAttribute(const nlmsghdr* message, size_t header_size,
                      const AttributeCallback& callback) {
  mnl_attr_parse(message, header_size, OnAttribute, const_cast<AttributeCallback*>(&callback));
}

void ForEachNested(const nlattr* nest, const AttributeCallback& callback) {
  mnl_attr_parse_nested(nest, OnAttribute, const_cast<AttributeCallback*>(&callback));
}

bool IsU32(const nlattr* attribute) {
  return mnl_attr_validate(attribute, MNL_TYPE_U32) >= 0;
}
bool IsString(const nlattr* attribute) {
  return mnl_attr_validate(attribute, MNL_TYPE_NUL_STRING) >= 0;
}

// The kernel says ENODEV for a missing link; callers want NotFound for that.
Error KernelError(int err, const std::string& what) {
  if (err == ENODEV) return NotFound(what + ": no such network device");
  return Error::FromErrno(err, what);
}

Result<void> CheckLinkName(const std::string& name) {
  if (name.empty() || name.size() >= IFNAMSIZ || name.find('/') != std::string::npos) {
    return InvalidArgument("invalid network device name \"" + name + "\"");
  }
  return Ok();
}

ifinfomsg* PutLinkHeader(nlmsghdr* message, int link_index) {
  auto* link = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(message, sizeof(ifinfomsg)));
  link->ifi_family = AF_UNSPEC;
  link->ifi_index = link_index;
  return link;
}

void ParseLinkInfo(const nlattr* nest, LinkInfo& info) {
  ForEachNested(nest, [&](const nlattr* attribute) {
    if (mnl_attr_get_type(attribute) == IFLA_INFO_KIND && IsString(attribute)) {
      info.kind = mnl_attr_get_str(attribute);
    }
  });
}

LinkInfo ParseLink(const nlmsghdr* message) {
  const auto* link = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(message));
  LinkInfo info;
  info.index = link->ifi_index;
  info.flags = link->ifi_flags;
  ForEachAttribute(message, sizeof(ifinfomsg), [&](const nlattr* attribute) {
    switch (mnl_attr_get_type(attribute)) {
      case IFLA_IFNAME:
        if (IsString(attribute)) info.name = mnl_attr_get_str(attribute);
        break;
      case IFLA_MTU:
        if (IsU32(attribute)) info.mtu = mnl_attr_get_u32(attribute);
        break;
      case IFLA_MASTER:
        if (IsU32(attribute)) info.master_index = static_cast<int>(mnl_attr_get_u32(attribute));
        break;
      case IFLA_LINKINFO: ParseLinkInfo(attribute, info); break;
      default: break;
    }
  });
  return info;
}

std::optional<AddressInfo> ParseAddress(const nlmsghdr* message) {
  const auto* header = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(message));
  size_t size = header->ifa_family == AF_INET ? 4 : header->ifa_family == AF_INET6 ? 16 : 0;
  if (size == 0) return std::nullopt;
  std::optional<IpAddress> local;
  std::optional<IpAddress> address;
  ForEachAttribute(message, sizeof(ifaddrmsg), [&](const nlattr* attribute) {
    auto type = mnl_attr_get_type(attribute);
    if ((type != IFA_LOCAL && type != IFA_ADDRESS) || mnl_attr_get_payload_len(attribute) != size) {
      return;
    }
    auto value =
        IpAddress::FromBytes(static_cast<const uint8_t*>(mnl_attr_get_payload(attribute)), size);
    (type == IFA_LOCAL ? local : address) = value;
  });
  // For IPv4 IFA_LOCAL is the interface's own address (IFA_ADDRESS is the peer on p2p links).
  if (!local && !address) return std::nullopt;
  return AddressInfo{static_cast<int>(header->ifa_index), local ? *local : *address,
                     header->ifa_prefixlen};
}

}  // namespace

Result<Netlink> Netlink::Open() {
  mnl_socket* socket = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (socket == nullptr) return Error::FromErrno(errno, "open rtnetlink socket");
  if (mnl_socket_bind(socket, 0, MNL_SOCKET_AUTOPID) < 0) {
    int err = errno;
    mnl_socket_close(socket);
    return Error::FromErrno(err, "bind rtnetlink socket");
  }
  timeval timeout{kReplyTimeoutSeconds, 0};
  ::setsockopt(mnl_socket_get_fd(socket), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  return Netlink(socket, mnl_socket_get_portid(socket));
}

Netlink::Netlink(mnl_socket* socket, unsigned port_id)
    : socket_(socket), port_id_(port_id), receive_buffer_(kReceiveBufferSize) {}

Netlink::Netlink(Netlink&& other) noexcept
    : socket_(std::exchange(other.socket_, nullptr)),
      port_id_(other.port_id_),
      sequence_(other.sequence_),
      receive_buffer_(std::move(other.receive_buffer_)) {}

Netlink& Netlink::operator=(Netlink&& other) noexcept {
  if (this != &other) {
    if (socket_ != nullptr) mnl_socket_close(socket_);
    socket_ = std::exchange(other.socket_, nullptr);
    port_id_ = other.port_id_;
    sequence_ = other.sequence_;
    receive_buffer_ = std::move(other.receive_buffer_);
  }
  return *this;
}

Netlink::~Netlink() {
  if (socket_ != nullptr) mnl_socket_close(socket_);
}

Result<void> Netlink::Transact(nlmsghdr* request, const std::string& what,
                               const Callback& on_message) {
  request->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  request->nlmsg_seq = ++sequence_;
  if (mnl_socket_sendto(socket_, request, request->nlmsg_len) < 0) {
    return Error::FromErrno(errno, what + ": send netlink request");
  }
  MessageCallback callback = on_message;
  while (true) {
    ssize_t received = mnl_socket_recvfrom(socket_, receive_buffer_.data(), receive_buffer_.size());
    if (received < 0 && errno == EINTR) continue;
    if (received < 0) return Error::FromErrno(errno, what + ": read netlink reply");
    // Ends at the ack (or NLMSG_DONE of a dump); a negative ack is MNL_CB_ERROR with errno set.
    int status = mnl_cb_run(receive_buffer_.data(), static_cast<size_t>(received),
                            request->nlmsg_seq, port_id_, OnMessage, &callback);
    if (status == MNL_CB_ERROR) return KernelError(errno, what);
    if (status == MNL_CB_STOP) return Ok();
  }
}

Result<LinkInfo> Netlink::GetLink(const std::string& name) {
  BERTH_TRY(CheckLinkName(name));
  Request request;
  nlmsghdr* message = request.Start(RTM_GETLINK, 0);
  PutLinkHeader(message, 0);
  mnl_attr_put_strz(message, IFLA_IFNAME, name.c_str());
  std::optional<LinkInfo> found;
  BERTH_TRY(Transact(message, "get link " + name, [&](const nlmsghdr* reply) {
    if (reply->nlmsg_type == RTM_NEWLINK) found = ParseLink(reply);
  }));
  if (!found) return NotFound("get link " + name + ": no reply");
  return *found;
}

Result<std::vector<LinkInfo>> Netlink::ListLinks() {
  Request request;
  nlmsghdr* message = request.Start(RTM_GETLINK, NLM_F_DUMP);
  PutLinkHeader(message, 0);
  std::vector<LinkInfo> links;
  BERTH_TRY(Transact(message, "list links", [&](const nlmsghdr* reply) {
    if (reply->nlmsg_type == RTM_NEWLINK) links.push_back(ParseLink(reply));
  }));
  return links;
}

Result<int> Netlink::LinkIndex(const std::string& name) {
  BERTH_ASSIGN_OR_RETURN(LinkInfo link, GetLink(name));
  return link.index;
}

Result<void> Netlink::CreateBridge(const std::string& name, const MacAddress& mac) {
  BERTH_TRY(CheckLinkName(name));
  Request request;
  nlmsghdr* message = request.Start(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  PutLinkHeader(message, 0);
  mnl_attr_put_strz(message, IFLA_IFNAME, name.c_str());
  mnl_attr_put(message, IFLA_ADDRESS, mac.size(), mac.data());
  nlattr* link_info = mnl_attr_nest_start(message, IFLA_LINKINFO);
  mnl_attr_put_strz(message, IFLA_INFO_KIND, "bridge");
  mnl_attr_nest_end(message, link_info);
  return Transact(message, "create bridge " + name);
}

Result<void> Netlink::CreateVethPair(const std::string& name, const std::string& peer_name,
                                     int peer_netns_fd) {
  BERTH_TRY(CheckLinkName(name));
  BERTH_TRY(CheckLinkName(peer_name));
  Request request;
  nlmsghdr* message = request.Start(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  PutLinkHeader(message, 0);
  mnl_attr_put_strz(message, IFLA_IFNAME, name.c_str());
  nlattr* link_info = mnl_attr_nest_start(message, IFLA_LINKINFO);
  mnl_attr_put_strz(message, IFLA_INFO_KIND, "veth");
  nlattr* info_data = mnl_attr_nest_start(message, IFLA_INFO_DATA);
  nlattr* peer = mnl_attr_nest_start(message, VETH_INFO_PEER);
  // VETH_INFO_PEER carries a whole link description: an ifinfomsg, then its attributes.
  auto* peer_link = static_cast<ifinfomsg*>(mnl_nlmsg_get_payload_tail(message));
  std::memset(peer_link, 0, sizeof(ifinfomsg));
  message->nlmsg_len += MNL_ALIGN(sizeof(ifinfomsg));
  mnl_attr_put_strz(message, IFLA_IFNAME, peer_name.c_str());
  if (peer_netns_fd >= 0) {
    mnl_attr_put_u32(message, IFLA_NET_NS_FD, static_cast<uint32_t>(peer_netns_fd));
  }
  mnl_attr_nest_end(message, peer);
  mnl_attr_nest_end(message, info_data);
  mnl_attr_nest_end(message, link_info);
  return Transact(message, "create veth pair " + name + "/" + peer_name);
}

Result<void> Netlink::ModifyLink(int link_index, const std::string& what,
                                 const std::function<void(nlmsghdr*)>& add_attributes,
                                 unsigned change, unsigned flags) {
  Request request;
  nlmsghdr* message = request.Start(RTM_NEWLINK, 0);
  ifinfomsg* link = PutLinkHeader(message, link_index);
  link->ifi_change = change;
  link->ifi_flags = flags;
  if (add_attributes) add_attributes(message);
  return Transact(message, what);
}

Result<void> Netlink::SetMaster(int link_index, int master_index) {
  return ModifyLink(
      link_index,
      "attach link " + std::to_string(link_index) + " to " + std::to_string(master_index),
      [&](nlmsghdr* message) {
        mnl_attr_put_u32(message, IFLA_MASTER, static_cast<uint32_t>(master_index));
      });
}

Result<void> Netlink::SetUp(int link_index, bool up) {
  return ModifyLink(link_index,
                    std::string(up ? "set up" : "set down") + " link " + std::to_string(link_index),
                    nullptr, IFF_UP, up ? IFF_UP : 0);
}

Result<void> Netlink::SetMtu(int link_index, uint32_t mtu) {
  return ModifyLink(link_index, "set mtu of link " + std::to_string(link_index),
                    [&](nlmsghdr* message) { mnl_attr_put_u32(message, IFLA_MTU, mtu); });
}

Result<void> Netlink::Rename(int link_index, const std::string& new_name) {
  BERTH_TRY(CheckLinkName(new_name));
  return ModifyLink(
      link_index, "rename link " + std::to_string(link_index) + " to " + new_name,
      [&](nlmsghdr* message) { mnl_attr_put_strz(message, IFLA_IFNAME, new_name.c_str()); });
}

Result<void> Netlink::AddAddress(int link_index, const IpAddress& address, int prefix_length) {
  Request request;
  nlmsghdr* message = request.Start(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
  auto* header = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(message, sizeof(ifaddrmsg)));
  header->ifa_family = static_cast<uint8_t>(address.family());
  header->ifa_prefixlen = static_cast<uint8_t>(prefix_length);
  header->ifa_flags = address.is_v4() ? 0 : IFA_F_NODAD;
  header->ifa_scope = RT_SCOPE_UNIVERSE;
  header->ifa_index = static_cast<unsigned>(link_index);
  mnl_attr_put(message, IFA_LOCAL, address.size(), address.bytes());
  mnl_attr_put(message, IFA_ADDRESS, address.size(), address.bytes());
  return Transact(message, "add address " + address.ToString() + "/" +
                               std::to_string(prefix_length) + " to link " +
                               std::to_string(link_index));
}

Result<void> Netlink::AddRoute(const Route& route) {
  Request request;
  nlmsghdr* message = request.Start(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
  auto* header = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(message, sizeof(rtmsg)));
  const IpAddress& destination = route.destination.network();
  header->rtm_family = static_cast<uint8_t>(destination.family());
  header->rtm_dst_len = static_cast<uint8_t>(route.destination.prefix_length());
  header->rtm_table = RT_TABLE_MAIN;
  header->rtm_protocol = RTPROT_BOOT;
  header->rtm_scope = RT_SCOPE_UNIVERSE;
  header->rtm_type = RTN_UNICAST;
  if (route.destination.prefix_length() > 0) {
    mnl_attr_put(message, RTA_DST, destination.size(), destination.bytes());
  }
  mnl_attr_put(message, RTA_GATEWAY, route.gateway.size(), route.gateway.bytes());
  if (route.link_index > 0) {
    mnl_attr_put_u32(message, RTA_OIF, static_cast<uint32_t>(route.link_index));
  }
  return Transact(
      message, "add route to " + route.destination.ToString() + " via " + route.gateway.ToString());
}

Result<void> Netlink::DeleteLink(const std::string& name) {
  BERTH_TRY(CheckLinkName(name));
  Request request;
  nlmsghdr* message = request.Start(RTM_DELLINK, 0);
  PutLinkHeader(message, 0);
  mnl_attr_put_strz(message, IFLA_IFNAME, name.c_str());
  auto deleted = Transact(message, "delete link " + name);
  if (!deleted.ok() && deleted.error().code() == ErrorCode::kNotFound) return Ok();
  return deleted;
}

Result<std::vector<AddressInfo>> Netlink::ListAddresses(int link_index) {
  Request request;
  nlmsghdr* message = request.Start(RTM_GETADDR, NLM_F_DUMP);
  auto* header = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(message, sizeof(ifaddrmsg)));
  header->ifa_family = AF_UNSPEC;
  std::vector<AddressInfo> addresses;
  BERTH_TRY(Transact(message, "list addresses", [&](const nlmsghdr* reply) {
    if (reply->nlmsg_type != RTM_NEWADDR) return;
    auto address = ParseAddress(reply);
    if (address && (link_index == 0 || address->link_index == link_index)) {
      addresses.push_back(*address);
    }
  }));
  return addresses;
}

}  // namespace berth::cni
