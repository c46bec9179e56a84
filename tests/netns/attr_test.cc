// The validated attribute reads under every netlink parser (REVIEW A2): a
// present but malformed attribute reads as absent, never as a made-up value.
// Kernel-free: the messages are built here with libmnl.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include <array>
#include <cstdint>
#include <vector>

#include "base/ip.h"
#include "netns/detail.h"

namespace {

using kpath::Ip;
namespace detail = netns::detail;

// A message whose payload is an ifinfomsg and then attributes, as the kernel sends.
class Message {
 public:
  Message() : buf_(4096) {
    nlh_ = mnl_nlmsg_put_header(buf_.data());
    nlh_->nlmsg_type = RTM_NEWLINK;
    mnl_nlmsg_put_extra_header(nlh_, sizeof(ifinfomsg));
  }
  nlmsghdr* nlh() { return nlh_; }
  // Attribute `type` with exactly these payload bytes.
  void put(uint16_t type, std::vector<uint8_t> payload) { mnl_attr_put(nlh_, type, payload.size(), payload.data()); }
  // The attribute of `type` (tb of 64 entries).
  const nlattr* get(uint16_t type) {
    detail::parse_attrs(nlh_, sizeof(ifinfomsg), tb_);
    return tb_[type];
  }

 private:
  std::vector<char> buf_;
  nlmsghdr* nlh_;
  std::array<const nlattr*, 64> tb_{};
};

TEST(Attr, U8NeedsExactlyOneByte) {
  Message m;
  m.put(1, {6});
  m.put(2, {6, 0});
  m.put(3, {});
  EXPECT_EQ(detail::read_u8(m.get(1)), 6);
  EXPECT_EQ(detail::read_u8(m.get(2)), std::nullopt);
  EXPECT_EQ(detail::read_u8(m.get(3)), std::nullopt);
  EXPECT_EQ(detail::read_u8(m.get(4)), std::nullopt);  // absent
}

TEST(Attr, Be16IsReadInHostOrderAndNeedsTwoBytes) {
  Message m;
  m.put(1, {0x1f, 0x90});  // 8080
  m.put(2, {0x1f});
  m.put(3, {0x1f, 0x90, 0});
  EXPECT_EQ(detail::read_be16(m.get(1)), 8080);
  EXPECT_EQ(detail::read_be16(m.get(2)), std::nullopt);
  EXPECT_EQ(detail::read_be16(m.get(3)), std::nullopt);
}

TEST(Attr, StringMustBeNulTerminated) {
  Message m;
  m.put(1, {'e', 't', 'h', '0', 0});
  m.put(2, {'e', 't', 'h', '0'});  // would run off the end under mnl_attr_get_str
  m.put(3, {});
  EXPECT_EQ(detail::read_str(m.get(1)), "eth0");
  EXPECT_EQ(detail::read_str(m.get(2)), std::nullopt);
  EXPECT_EQ(detail::read_str(m.get(3)), std::nullopt);
}

TEST(Attr, IpNeedsTheLengthOfItsFamily) {
  Message m;
  m.put(1, {10, 0, 0, 7});
  std::vector<uint8_t> v6(16, 0);
  v6[0] = 0xfd;
  v6[15] = 7;
  m.put(2, v6);
  m.put(3, {10, 0, 0});
  EXPECT_EQ(detail::read_ip(m.get(1), AF_INET), Ip::from("10.0.0.7"));
  EXPECT_EQ(detail::read_ip(m.get(2), AF_INET6), Ip::from("fd00::7"));
  EXPECT_EQ(detail::read_ip(m.get(1), AF_INET6), std::nullopt);  // 4 bytes are no IPv6 address
  EXPECT_EQ(detail::read_ip(m.get(2), AF_INET), std::nullopt);
  EXPECT_EQ(detail::read_ip(m.get(3), AF_INET), std::nullopt);
  EXPECT_EQ(detail::read_ip(m.get(1), AF_UNSPEC), std::nullopt);
}

TEST(Attr, NestedTablesAreReadAndABrokenNestIsRefused) {
  Message m;
  nlattr* nest = mnl_attr_nest_start(m.nlh(), 5);
  mnl_attr_put_u8(m.nlh(), 2, 17);
  mnl_attr_nest_end(m.nlh(), nest);
  m.put(6, {1, 2});  // too short to hold even one attribute header
  std::array<const nlattr*, 8> inner{};
  ASSERT_TRUE(detail::parse_nested(m.get(5), inner));
  EXPECT_EQ(detail::read_u8(inner[2]), 17);
  EXPECT_FALSE(detail::parse_nested(m.get(6), inner));
  EXPECT_FALSE(detail::parse_nested(nullptr, inner));
  EXPECT_EQ(inner[2], nullptr);  // a refused nest leaves the table empty
}

TEST(Attr, TypesBeyondTheTableAreIgnored) {
  Message m;
  m.put(40, {1});
  std::array<const nlattr*, 8> small{};
  detail::parse_attrs(m.nlh(), sizeof(ifinfomsg), small);
  for (const nlattr* a : small) EXPECT_EQ(a, nullptr);
}

TEST(Attr, HeaderOfRefusesAShortPayload) {
  Message m;
  EXPECT_NE(detail::header_of<ifinfomsg>(m.nlh()), nullptr);
  std::vector<char> buf(64);
  nlmsghdr* bare = mnl_nlmsg_put_header(buf.data());
  EXPECT_EQ(detail::header_of<ifinfomsg>(bare), nullptr);
}

}  // namespace
