// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
#pragma once
// A loopback TCP proxy for network-fault tests: it forwards every connection made to its port
// to 127.0.0.1:<target>, and on `stall()` stops forwarding (and answering new connections)
// without closing anything, as a dropped route or a hung middlebox does. Clients then see
// neither data nor an error: only their own deadlines end their calls. `resume()` forwards
// again, including what queued meanwhile.

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

namespace dal_test {

class tcp_proxy {
public:
    explicit tcp_proxy(std::uint16_t target) : target_(target) {
        listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        BOOST_TEST_REQUIRE(listen_fd_ >= 0);
        sockaddr_in a = loopback(0);
        BOOST_TEST_REQUIRE(::bind(listen_fd_, as_sockaddr(a), sizeof a) == 0);
        BOOST_TEST_REQUIRE(::listen(listen_fd_, 64) == 0);
        socklen_t len = sizeof a;
        ::getsockname(listen_fd_, as_sockaddr(a), &len);
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { run(); });
    }
    tcp_proxy(const tcp_proxy&) = delete;
    tcp_proxy& operator=(const tcp_proxy&) = delete;
    tcp_proxy(tcp_proxy&&) = delete;
    tcp_proxy& operator=(tcp_proxy&&) = delete;
    ~tcp_proxy() {
        stop_ = true;
        thread_.join();
        for (const auto& [a, b] : pairs_) {
            ::close(a);
            ::close(b);
        }
        ::close(listen_fd_);
    }

    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    void stall() noexcept { stalled_ = true; }
    void resume() noexcept { stalled_ = false; }
    /// New connections wait (unanswered) while the existing ones keep working: a cancel
    /// request, which opens a connection of its own, is held up; `accept_new()` lets them in.
    /// Returns once the proxy has begun a round without accepting, so that a connection made
    /// after this call is never taken by a round that began before it.
    void hold_new() noexcept {
        hold_new_ = true;
        const std::uint64_t seen = rounds_.load();
        while (rounds_.load() < seen + 2)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    void accept_new() noexcept { hold_new_ = false; }
    /// Forwards `bytes` more from the server to the clients, then stalls: a network that
    /// dies in the middle of a result.
    void stall_after(std::int64_t bytes) noexcept { server_budget_ = bytes; }
    /// Connections forwarded now.
    [[nodiscard]] std::size_t connections() const {
        const std::lock_guard lk(m_);
        return pairs_.size();
    }

private:
    static sockaddr_in loopback(std::uint16_t port) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(port);
        return a;
    }
    static sockaddr* as_sockaddr(sockaddr_in& a) {
        // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
        return reinterpret_cast<sockaddr*>(&a);
    }

    void run() {
        std::vector<pollfd> fds;
        while (!stop_) {
            ++rounds_;
            fds.clear();
            const bool stalled = stalled_;
            // While stalled nothing is read: not the clients, the server, or new connections
            // (they wait in the listen backlog, their handshake done by the kernel).
            if (!stalled) {
                if (!hold_new_) fds.push_back({listen_fd_, POLLIN, 0});
                const std::lock_guard lk(m_);
                for (const auto& [a, b] : pairs_) {
                    fds.push_back({a, POLLIN, 0});
                    fds.push_back({b, POLLIN, 0});
                }
            }
            if (::poll(fds.data(), fds.size(), 10) <= 0) continue;
            for (const pollfd& p : fds) {
                if ((p.revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
                if (p.fd == listen_fd_) {
                    accept_one();
                } else {
                    forward(p.fd);
                }
            }
        }
    }

    void accept_one() {
        const int client = ::accept(listen_fd_, nullptr, nullptr);
        if (client < 0) return;
        const int server = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a = loopback(target_);
        if (server < 0 || ::connect(server, as_sockaddr(a), sizeof a) != 0) {
            ::close(client);
            if (server >= 0) ::close(server);
            return;
        }
        const int one = 1;
        ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ::setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        const std::lock_guard lk(m_);
        pairs_.emplace_back(client, server);
    }

    /// Moves what `fd` has to its peer; closes the pair when either side closed.
    void forward(int fd) {
        int peer = -1;
        bool from_server = false;
        {
            const std::lock_guard lk(m_);
            for (const auto& [a, b] : pairs_) {
                if (a == fd) peer = b;
                if (b == fd) {
                    peer = a;
                    from_server = true;
                }
            }
        }
        if (peer < 0 || stalled_) return;  // closed earlier in this round, or stalled in it
        std::array<char, 65536> buf{};
        std::size_t want = buf.size();
        const std::int64_t budget = server_budget_;
        if (from_server && budget >= 0) {
            if (budget == 0) {
                stalled_ = true;
                server_budget_ = -1;
                return;
            }
            want = std::min(want, static_cast<std::size_t>(budget));
        }
        const ssize_t n = ::read(fd, buf.data(), want);
        if (from_server && budget >= 0 && n > 0) server_budget_ = budget - n;
        bool ok = n > 0;
        for (ssize_t off = 0; ok && off < n;) {
            const ssize_t w = ::write(peer, buf.data() + off, static_cast<std::size_t>(n - off));
            ok = w > 0;
            off += std::max<ssize_t>(w, 0);
        }
        if (ok) return;
        const std::lock_guard lk(m_);
        std::erase_if(pairs_, [&](const std::pair<int, int>& p) {
            if (p.first != fd && p.second != fd) return false;
            ::close(p.first);
            ::close(p.second);
            return true;
        });
    }

    std::uint16_t target_;
    std::uint16_t port_ = 0;
    int listen_fd_ = -1;
    std::atomic<bool> stop_{false};
    std::atomic<bool> stalled_{false};
    std::atomic<bool> hold_new_{false};
    std::atomic<std::int64_t> server_budget_{-1};  ///< bytes left before stalling (-1: off)
    std::atomic<std::uint64_t> rounds_{0};         ///< poll rounds begun
    mutable std::mutex m_;
    std::vector<std::pair<int, int>> pairs_;  ///< (client side, server side)
    std::thread thread_;
};

}  // namespace dal_test
