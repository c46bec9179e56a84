#include "base/ip.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <array>
#include <cstdint>

#include "base/error.h"

namespace {

using kpath::Cidr;
using kpath::Ip;
using testing::HasSubstr;

TEST(IpFromBytes, Ipv4InNetworkOrder) {
  const std::array<uint8_t, 4> bytes{10, 0, 1, 200};
  Ip ip = Ip::from_bytes(AF_INET, bytes);
  EXPECT_TRUE(ip.is_v4());
  EXPECT_EQ(ip, Ip::from("10.0.1.200"));
  EXPECT_EQ(ip.str(), "10.0.1.200");
}

TEST(IpFromBytes, Ipv6InNetworkOrder) {
  const std::array<uint8_t, 16> bytes{0xfd, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34};
  Ip ip = Ip::from_bytes(AF_INET6, bytes);
  EXPECT_TRUE(ip.is_v6());
  EXPECT_EQ(ip, Ip::from("fd00::1234"));
}

TEST(IpFromBytes, RoundTripsThroughData) {
  for (const char* text : {"192.168.7.1", "2001:db8::1", "::ffff:10.0.0.1", "0.0.0.0", "::"}) {
    Ip ip = Ip::from(text);
    EXPECT_EQ(Ip::from_bytes(ip.family(), std::span(ip.data(), ip.size())), ip) << text;
  }
}

TEST(IpFromBytes, WrongLengthIsAnError) {
  const std::array<uint8_t, 16> bytes{};
  EXPECT_THROW(Ip::from_bytes(AF_INET, std::span(bytes.data(), 3)), kpath::Error);
  EXPECT_THROW(Ip::from_bytes(AF_INET, bytes), kpath::Error);  // 16 bytes are not IPv4
  EXPECT_THROW(Ip::from_bytes(AF_INET6, std::span(bytes.data(), 4)), kpath::Error);
  EXPECT_THROW(Ip::from_bytes(AF_INET6, std::span<const uint8_t>()), kpath::Error);
  try {
    Ip::from_bytes(AF_INET6, std::span(bytes.data(), 15));
    FAIL();
  } catch (const kpath::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("15 bytes, want 16"));
  }
}

TEST(IpFromBytes, UnknownFamilyIsAnError) {
  const std::array<uint8_t, 4> bytes{1, 2, 3, 4};
  EXPECT_THROW(Ip::from_bytes(AF_UNSPEC, bytes), kpath::Error);
  EXPECT_THROW(Ip::from_bytes(AF_PACKET, bytes), kpath::Error);
}

TEST(CidrNth, CountsFromTheNetworkAddressWithCarries) {
  EXPECT_EQ(Cidr::from("172.16.96.0/20").nth(1), Ip::from("172.16.96.1"));
  EXPECT_EQ(Cidr::from("172.16.96.0/20").nth(256), Ip::from("172.16.97.0"));
  EXPECT_EQ(Cidr::from("172.16.96.7/20").nth(4095), Ip::from("172.16.111.255"));
  EXPECT_EQ(Cidr::from("fd00:1::/112").nth(0x1ff), Ip::from("fd00:1::1ff"));
  EXPECT_THROW(Cidr::from("172.16.96.0/20").nth(4096), kpath::Error);
  EXPECT_THROW(Cidr::from("fd00:1::/120").nth(256), kpath::Error);
}

TEST(CidrNetwork, ClearsHostBits) {
  EXPECT_EQ(Cidr::from("10.1.2.3/24").network(), Cidr::from("10.1.2.0/24"));
  EXPECT_EQ(Cidr::from("10.1.2.3/19").network(), Cidr::from("10.1.0.0/19"));
  EXPECT_EQ(Cidr::from("10.1.2.3/0").network(), Cidr::from("0.0.0.0/0"));
  EXPECT_EQ(Cidr::from("10.1.2.3/32").network(), Cidr::from("10.1.2.3/32"));
  EXPECT_EQ(Cidr::from("fd00:1:2:3::9/63").network(), Cidr::from("fd00:1:2:2::/63"));
}

}  // namespace
