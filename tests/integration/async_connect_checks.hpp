// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
#pragma once
// Checks shared by the PostgreSQL and MariaDB pool suites: connects in flight hold no thread
// (a pool opens connections asynchronously on dal's connector loop, so a server that does not
// answer stalls neither dal's worker threads nor other pools' connects), and an async connect
// ends at the connect limit. A loopback proxy holds new connections up: the kernel
// completes the TCP handshake, the server never answers the startup packet.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
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
void connects_in_flight_hold_no_thread(dal::config cfg) {
    namespace asio = boost::asio;
    using namespace std::chrono_literals;
    const dal::config direct = cfg;
    tcp_proxy proxy(cfg.hosts.at(0).port);
    cfg.hosts.at(0).port = proxy.port();
    cfg.timeouts.connect = 10s;
    dal::pool_options o;
    o.min = 0;
    o.max = 6;
    o.max_concurrent_creations = 6;
    o.acquire_timeout = 10s;
    auto pool = Pool::create(cfg, o);
    proxy.hold_new();  // every connect now waits for the server's answer
    asio::io_context io;
    std::atomic<int> served{0};
    std::mutex m;
    std::vector<std::string> failures;
    const auto failed = [&](const dal::error& e) {
        const std::lock_guard lk(m);
        failures.emplace_back(e.what());
    };
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
                    failed(e);
                }
            },
            asio::detached);
    std::thread loop([&] { io.run(); });
    // Two threads connect too: six connects in flight, more than dal's connector threads.
    std::vector<std::thread> threads;
    for (int k = 0; k < 2; ++k)
        threads.emplace_back([&] {
            try {
                auto db = pool->acquire();
                if (db->template query_one<std::int64_t>(std::string("SELECT 1")) == 1) ++served;
            } catch (const dal::error& e) {
                failed(e);
            }
        });
    std::this_thread::sleep_for(300ms);  // the connects are held at the proxy
    // dal's worker threads are not blocked in them: a job posted there runs at once.
    auto ran = std::make_shared<std::promise<void>>();
    auto done = ran->get_future();
    asio::post(dal::detail::blocking_pool(), [ran] { ran->set_value(); });
    const bool workers_free = done.wait_for(1s) == std::future_status::ready;
    // Nor are the connector threads: another pool, on the server itself, opens a connection.
    const auto start = std::chrono::steady_clock::now();
    bool other_pool_served = false;
    try {
        auto other = Pool::create(direct, dal::pool_options{.min = 0, .max = 1});
        auto db = other->acquire(5s);
        other_pool_served = db->template query_one<std::int64_t>(std::string("SELECT 1")) == 1;
    } catch (const dal::error& e) {
        BOOST_TEST_MESSAGE("the other pool failed: " << e.what());
    }
    const auto other_took = std::chrono::steady_clock::now() - start;
    proxy.accept_new();
    loop.join();
    for (std::thread& t : threads)
        t.join();
    BOOST_TEST(workers_free, "the connects blocked dal's worker threads");
    BOOST_TEST(other_pool_served, "the connects blocked dal's connector threads");
    BOOST_TEST(other_took < 3s);
    BOOST_TEST(served == 6);
    for (const std::string& f : failures)
        BOOST_TEST_MESSAGE("acquire failed: " << f);
    BOOST_TEST(failures.empty());
    BOOST_TEST(pool->status().created == 6U);
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
