// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
#pragma once
// Checks shared by the PostgreSQL and MariaDB pool suites: async acquirers connect on their
// own executor (dal's worker threads stay free while connects are in flight), and an async
// connect ends at the connect limit. A loopback proxy holds new connections up: the kernel
// completes the TCP handshake, the server never answers the startup packet.

#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

#include <dal/pool.hpp>

#include "tcp_proxy.hpp"

namespace dal_test {

template <class Pool>
void async_acquirers_connect_on_their_executor(dal::config cfg) {
    namespace asio = boost::asio;
    using namespace std::chrono_literals;
    tcp_proxy proxy(cfg.hosts.at(0).port);
    cfg.hosts.at(0).port = proxy.port();
    cfg.timeouts.connect = 10s;
    dal::pool_options o;
    o.min = 0;
    o.max = 4;
    o.max_concurrent_creations = 4;
    o.acquire_timeout = 10s;
    auto pool = Pool::create(cfg, o);
    proxy.hold_new();  // every connect now waits for the server's answer
    asio::io_context io;
    int served = 0;
    std::vector<std::string> failures;
    for (int k = 0; k < 4; ++k)
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                try {
                    auto db = co_await pool->async_acquire(asio::use_awaitable);
                    const auto one = co_await db->template async_query_one<std::int64_t>(
                        std::string("SELECT 1"), dal::params(), asio::use_awaitable);
                    if (one == 1) ++served;
                } catch (const dal::error& e) {
                    failures.emplace_back(e.what());
                }
            },
            asio::detached);
    std::thread loop([&] { io.run(); });
    std::this_thread::sleep_for(300ms);  // four connects in flight, held at the proxy
    // dal's worker threads (two on this machine) are not blocked in them: a job posted there
    // runs at once.
    auto ran = std::make_shared<std::promise<void>>();
    auto done = ran->get_future();
    asio::post(dal::detail::blocking_pool(), [ran] { ran->set_value(); });
    const bool workers_free = done.wait_for(1s) == std::future_status::ready;
    proxy.accept_new();
    loop.join();
    BOOST_TEST(workers_free, "the connects blocked dal's worker threads");
    BOOST_TEST(served == 4);
    for (const std::string& f : failures)
        BOOST_TEST_MESSAGE("acquire failed: " << f);
    BOOST_TEST(failures.empty());
    BOOST_TEST(pool->status().created == 4U);
}

template <class Connection>
void async_connect_ends_at_the_connect_limit(dal::config cfg) {
    namespace asio = boost::asio;
    using namespace std::chrono_literals;
    tcp_proxy proxy(cfg.hosts.at(0).port);
    cfg.hosts.at(0).port = proxy.port();
    cfg.timeouts.connect = 300ms;
    proxy.hold_new();
    asio::io_context io;
    std::optional<dal::error> failed;
    bool connected = false;
    const auto start = std::chrono::steady_clock::now();
    std::chrono::milliseconds took{};
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            try {
                auto c = co_await Connection::async_connect(cfg);
                connected = c != nullptr;
            } catch (const dal::error& e) {
                failed = e;
            }
            took = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - start);
        },
        asio::detached);
    io.run();
    proxy.accept_new();
    BOOST_TEST(!connected);
    BOOST_TEST_REQUIRE(failed.has_value());
    BOOST_TEST((failed->code() == dal::errc::timeout), failed->what());
    BOOST_TEST(took >= 250ms);
    BOOST_TEST(took < 1500ms, "the connect limit was 300 ms, it took " << took.count() << " ms");
    // And an async connect that is let through works.
    cfg.timeouts.connect = 5s;
    asio::io_context io2;
    std::optional<std::int64_t> one;
    asio::co_spawn(
        io2,
        [&]() -> asio::awaitable<void> {
            auto c = co_await Connection::async_connect(cfg);
            one = co_await c->template async_query_one<std::int64_t>(
                std::string("SELECT 1"), dal::params(), asio::use_awaitable);
        },
        asio::detached);
    io2.run();
    BOOST_TEST(one.value_or(0) == 1);
}

}  // namespace dal_test
