// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
#pragma once
// TLS against the test servers, for PostgreSQL and MariaDB alike: scripts/test-servers.sh
// gives them a certificate of a throwaway CA (DAL_TEST_TLS_CA) for 127.0.0.1 and localhost.
// The test URIs ask for no TLS; these checks ask for it through `config.tls`.

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

#include <dal/config.hpp>
#include <dal/error.hpp>

#include "servers.hpp"

namespace dal_test {

/// `tls_version_sql` returns the session's TLS version, or an empty string on a plain one.
template <class Connection>
void tls_is_used_and_verified(dal::config cfg, const std::string& tls_version_sql) {
    namespace asio = boost::asio;
    const char* ca = std::getenv("DAL_TEST_TLS_CA");
    BOOST_TEST_REQUIRE(ca != nullptr, "DAL_TEST_TLS_CA is not set");
    const auto version = [&](Connection& c) {
        return c.template query_one<std::string>(tls_version_sql).value_or("");
    };
    {
        cfg.tls.mode = dal::tls_mode::disable;
        Connection plain(cfg);
        BOOST_TEST(version(plain).empty());
    }
    // Verified against the CA, host name included.
    cfg.tls.mode = dal::tls_mode::verify_full;
    cfg.tls.ca_file = ca;
    {
        Connection db(cfg);
        BOOST_TEST(version(db).starts_with("TLS"), version(db));
    }
    // The same through the async connect (the TLS handshake driven by Asio).
    {
        asio::io_context io;
        std::string v;
        std::optional<dal::error> failed;
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                try {
                    auto c = co_await Connection::async_connect(cfg);
                    const std::optional<std::string> got =
                        co_await c->template async_query_one<std::string>(
                            tls_version_sql, dal::params(), asio::use_awaitable);
                    v = got.value_or("");
                } catch (const dal::error& e) {
                    failed = e;
                }
            },
            asio::detached);
        io.run();
        BOOST_TEST(!failed.has_value(), (failed ? failed->what() : ""));
        BOOST_TEST(v.starts_with("TLS"), v);
    }
    // Encrypted without verification.
    {
        dal::config r = cfg;
        r.tls.mode = dal::tls_mode::require;
        r.tls.ca_file.clear();
        Connection db(r);
        BOOST_TEST(version(db).starts_with("TLS"));
    }
    // A trust anchor that did not sign the server's certificate: refused, saying why, and
    // without the password.
    cfg.tls.ca_file = (std::filesystem::path(ca).parent_path() / "server.crt").string();
    const dal::error e = expect_error([&] { Connection db(cfg); });
    BOOST_TEST((e.code() == dal::errc::connection_error), e.what());
    std::string what = e.what();
    std::transform(what.begin(), what.end(), what.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    BOOST_TEST((what.find("certificate") != std::string::npos ||
                what.find("ssl") != std::string::npos || what.find("tls") != std::string::npos),
               e.what());
    BOOST_TEST(what.find(cfg.password.reveal()) == std::string::npos);
}

}  // namespace dal_test
