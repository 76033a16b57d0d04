#include "dns/tcp_connections.h"

#include <cassert>

namespace failover::dns {

TcpConnectionTable::Admission TcpConnectionTable::admit(const Address& client, core::TimePoint now) {
  Admission a;
  // The client's own limit first: evicting one of its connections also
  // makes room under the total, so one eviction is always enough.
  if (auto c = clients_.find(client); c != clients_.end() && c->second.open >= max_per_client_) {
    a.evicted = oldest_idle(c->second.idle);
    if (!a.evicted) return a;
  } else if (connections_.size() >= max_connections_) {
    a.evicted = oldest_idle(idle_);
    if (!a.evicted) return a;
  }
  if (a.evicted) erase(connections_.find(*a.evicted));
  a.accepted = true;
  a.id = next_id_++;
  connections_.emplace(a.id, Connection{client, now});
  idle_.emplace(now, a.id);
  Client& c = clients_[client];
  ++c.open;
  c.idle.emplace(now, a.id);
  assert(connections_.size() <= max_connections_ && c.open <= max_per_client_);
  return a;
}

void TcpConnectionTable::set_busy(Id id) {
  auto it = connections_.find(id);
  if (it == connections_.end() || !it->second.idle_since) return;
  const IdleKey key{*it->second.idle_since, id};
  idle_.erase(key);
  clients_.at(it->second.client).idle.erase(key);
  it->second.idle_since.reset();
}

void TcpConnectionTable::set_idle(Id id, core::TimePoint now) {
  auto it = connections_.find(id);
  if (it == connections_.end() || it->second.idle_since) return;
  it->second.idle_since = now;
  idle_.emplace(now, id);
  clients_.at(it->second.client).idle.emplace(now, id);
}

void TcpConnectionTable::remove(Id id) {
  if (auto it = connections_.find(id); it != connections_.end()) erase(it);
}

std::optional<TcpConnectionTable::Id> TcpConnectionTable::evict_oldest_idle() {
  std::optional<Id> id = oldest_idle(idle_);
  if (id) erase(connections_.find(*id));
  return id;
}

std::size_t TcpConnectionTable::count(const Address& client) const {
  auto c = clients_.find(client);
  return c == clients_.end() ? 0 : c->second.open;
}

std::optional<TcpConnectionTable::Id> TcpConnectionTable::oldest_idle(const std::set<IdleKey>& idle) {
  if (idle.empty()) return std::nullopt;
  return idle.begin()->second;
}

void TcpConnectionTable::erase(std::map<Id, Connection>::iterator it) {
  auto c = clients_.find(it->second.client);
  assert(c != clients_.end());
  if (it->second.idle_since) {
    const IdleKey key{*it->second.idle_since, it->first};
    idle_.erase(key);
    c->second.idle.erase(key);
  }
  // Clients without connections are forgotten, so that many addresses
  // passing through leave nothing behind.
  if (--c->second.open == 0) clients_.erase(c);
  connections_.erase(it);
}

}  // namespace failover::dns
