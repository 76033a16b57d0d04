// The one dashboard of every role: reads /status once a second and draws
// the panels of the role it names ("role": "lb" | "dns" | "registry" | "agent" | "witness" | "proxy" |
// "demo-service" | "up", the whole stack; a store node names its component, "store", and its role
// in the pair).
'use strict';

const esc = (v) => String(v ?? '').replace(/[&<>"']/g,
  (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]));

function table(head, rows) {
  return '<table><tr>' + head.map((h) => `<th>${esc(h)}</th>`).join('') + '</tr>' +
    rows.join('') + '</table>';
}

const okClass = (ok) => (ok ? 'ok' : 'bad');

const panels = {
  lb(s) {
    return s.upstreams.map((u) => {
      const rows = u.servers.map((v) => `<tr>
        <td>${esc(v.address)}${v.backup ? ' (backup)' : ''}</td>
        <td class="${esc(v.state)}">${esc(v.state)}</td><td>${esc(v.reason)}</td>
        <td>${esc(v.requests.active)}</td><td>${esc(v.requests.total)}</td>
        <td>${esc(v.requests.failures)}</td></tr>`);
      const d = u.discovery;
      const disc = d ? `<p class="muted">from registry service ${esc(d.service)}` +
        `${d.registry ? ' via ' + esc(d.registry) : ''}, index ${esc(d.index)}` +
        `${d.protected ? ' (protected)' : ''}${d.error ? ', error: ' + esc(d.error) : ''}</p>` : '';
      return `<h2>${esc(u.name)} (${esc(u.balance)})${u.panic ? ' <span class="panic">PANIC</span>' : ''}</h2>` +
        disc + table(['server', 'state', 'why', 'active', 'total', 'failures'], rows);
    }).join('');
  },

  dns(s) {
    const rows = [];
    for (const n of s.names) {
      const a = n.answer ? [...n.answer.ips, ...n.answer.ipsv6].join(' ') : '';
      for (const t of n.targets) {
        rows.push(`<tr><td>${esc(n.name)}${n.panic ? ' <span class="panic">panic</span>' : ''}</td>
          <td>${esc(a)}</td><td>${esc(t.target)}</td>
          <td class="${esc(t.state)}">${esc(t.state)}</td><td>${esc(t.reason)}</td></tr>`);
      }
    }
    return `<p>serial ${esc(s.serial)}</p>` + table(['name', 'answer', 'target', 'state', 'why'], rows);
  },

  registry(s) {
    const services = s.services.map((v) => `<tr>
      <td><a href="/v1/services/${encodeURIComponent(v.name)}?all=1">${esc(v.name)}</a></td>
      <td>${esc(v.instances)}</td>
      <td class="${okClass(v.healthy === v.instances)}">${esc(v.healthy)}${v.protected ? ' (protected)' : ''}</td>
      <td>${esc(v.index)}</td></tr>`);
    const peers = s.peers.map((p) => `<tr><td>${esc(p.url)}</td>
      <td class="${okClass(p.reachable)}">${p.reachable ? 'reachable' : 'unreachable'}</td>
      <td>${esc(p.pending)} pending</td></tr>`);
    return `<p>backend ${esc(s.backend)}, index ${esc(s.index)}` +
      `${s.backend_error ? ', <span class="bad">' + esc(s.backend_error) + '</span>' : ''}</p>` +
      '<h2>services</h2>' + table(['service', 'instances', 'healthy', 'index'], services) +
      '<h2>peers</h2>' + table(['peer', 'state', 'queue'], peers);
  },

  store(s) {
    const ms = (v) => (v < 0 ? '' : `${v} ms`);
    const r = s.record;
    const peers = s.peers.map((p) => `<tr><td>${esc(p.node)}</td>
      <td class="${okClass(p.connected)}">${p.connected ? 'connected' : 'down'}</td>
      <td class="${okClass(p.in_sync)}">${p.in_sync ? 'in sync' : 'out of sync'}</td>
      <td>${esc(p.lag)}</td><td>${esc(p.durable_seq)}</td>
      <td>${p.last_ack_ms_ago < 0 ? '' : esc(p.last_ack_ms_ago) + ' ms ago'}</td></tr>`);
    const failovers = s.failovers.map((f) => `<tr><td>${esc(f.epoch)}</td>
      <td>${ms(f.suspected_to_cas_granted_ms)}</td><td>${ms(f.cas_granted_to_reconciled_ms)}</td>
      <td>${ms(f.reconciled_to_first_write_ms)}</td><td>${esc(Math.round(f.ago_ms / 1000))} s ago</td></tr>`);
    return `<p class="${okClass(s.serving || s.role === 'backup')}"><b>${esc(s.role)}</b> in epoch ${esc(s.epoch)}` +
      `${s.not_serving_because && s.role === 'primary' ? ' — ' + esc(s.not_serving_because) : ''}</p>` +
      `<p>commit ${esc(s.commit_seq)}, applied ${esc(s.applied_seq)}, log end ${esc(s.last_seq)}; ` +
      `lease ${esc(s.lease_left_ms)}${typeof s.lease_left_ms === 'number' ? ' ms' : ''} left; ` +
      `primary ${esc(s.primary ?? 'unknown')}</p>` +
      `<p class="${okClass(s.arbiter.reachable && !s.arbiter.refused)}">arbiter ${esc(s.arbiter.address)}: ` +
      `${s.arbiter.refused ? 'record refused' : s.arbiter.reachable ? 'reachable' : 'unreachable'}` +
      `${r ? `; record v${esc(r.version)}, epoch ${esc(r.epoch)}, primary ${esc(r.primary)}, in_sync ` +
        esc(r.in_sync.map((m) => m.node).join(', ')) : ''}</p>` +
      '<h2>peers</h2>' + table(['peer', 'link', 'in_sync', 'lag', 'durable', 'last ack'], peers) +
      '<h2>failovers of this node</h2>' +
      table(['epoch', 'suspected → CAS', 'CAS → serving', 'serving → first write', 'when'], failovers);
  },

  agent(s) {
    const rows = s.services.map((v) => `<tr>
      <td>${esc(v.name)}</td><td>${esc(v.id)}</td><td>${esc(v.address)}</td>
      <td class="${okClass(v.healthy)}">${v.healthy ? 'passes' : 'fails'}</td>
      <td class="${okClass(v.registered)}">${v.registered ? 'yes' : 'no'}</td>
      <td>${esc(v.consecutive_successes)} / ${esc(v.consecutive_failures)}</td>
      <td>${esc(v.last_probe)}</td><td>${esc(v.last_registry_call)}</td></tr>`);
    return `<p>registry ${esc(s.registry)}</p>` +
      table(['service', 'id', 'address', 'check', 'registered', 'passes / fails in a row',
        'last check', 'last registry call'], rows);
  },

  witness(s) {
    const r = s.record;
    const members = r.in_sync.map((m) => `<tr><td>${esc(m.node)}${m.node === r.primary ? ' (primary)' : ''}</td>
      <td>${esc(m.storage_id)}</td></tr>`);
    const c = s.counters;
    return `<p>cluster ${esc(r.cluster_id)}, version ${esc(r.version)}, epoch ${esc(r.epoch)}, ` +
      `primary ${r.primary ? esc(r.primary) : '<span class="bad">none yet</span>'}` +
      `${s.durable ? '' : ', <span class="bad">disk failed: stopping</span>'}</p>` +
      '<h2>in_sync</h2>' + table(['node', 'storage_id'], members) +
      `<p class="muted">${esc(c.reads)} reads, ${esc(c.changes)} changes, ${esc(c.conflicts)} conflicts, ` +
      `${esc(c.refused)} refused, ${esc(c.bad_requests)} bad requests</p>`;
  },
  proxy(s) {
    const rows = Object.entries(s.proxies).map(([name, p]) => `<tr><td>${esc(name)}</td>
      <td>${esc(p.listen)} → ${esc(p.upstream)}</td>
      <td class="${okClass(p.fault === 'none')}">${esc(p.fault)}</td>
      <td>${esc(p.connections.open)}</td><td>${esc(p.connections.accepted)}</td>
      <td>${esc(p.connections.reset)}</td><td>${esc(p.connections.upstream_failures)}</td></tr>`);
    return table(['proxy', 'link', 'fault', 'open', 'accepted', 'reset', 'upstream failed'], rows) +
      '<p class="muted">PUT /faults/NAME with a fault (none, delay 100ms, drop 0.3, blackhole, half-open) sets it</p>';
  },

  'demo-service'(s) {
    const q = s.requests;
    return `<p>instance <b>${esc(s.name)}</b>; store ${esc(s.store.join(', '))}, ` +
      `last answered by ${esc(s.store_current)}</p>` +
      table(['GET ok', 'GET not found', 'GET failed', 'PUT ok', 'PUT failed'],
        [`<tr><td>${esc(q.get_ok)}</td><td>${esc(q.get_not_found)}</td><td>${esc(q.get_failed)}</td>` +
          `<td>${esc(q.put_ok)}</td><td>${esc(q.put_failed)}</td></tr>`]);
  },

  // The whole stack (failover up): every component, its process and what
  // its own /status says, and the latest changes.
  up(s) {
    const rate = (c) => (c.requests_per_s === null ? '' : `${esc(c.requests_per_s)}/s` +
      (c.failures_per_s ? ` <span class="bad">${esc(c.failures_per_s)} failed/s</span>` : ''));
    const health = (c) => {
      if (!c.running) return ['down', c.last_exit === null ? 'not started' : `down (exit ${c.last_exit})`];
      if (c.hung) return ['down', 'hung (SIGSTOP)'];
      return c.answering ? ['up', 'up'] : ['down', 'not answering'];
    };
    const rows = s.components.map((c) => {
      const [cls, text] = health(c);
      return `<tr data-component="${esc(c.name)}"><td><a href="http://${esc(c.admin)}/">${esc(c.name)}</a></td>
        <td>${esc(c.kind)}</td><td class="${cls}">${esc(text)}</td><td>${esc(c.state)}</td>
        <td>${rate(c)}</td><td>${esc(c.pid || '')}</td><td>${esc(c.listens.join(' '))}</td>
        <td>${esc(c.starts)}</td></tr>`;
    });
    const total = (k) => s.components.filter((c) => c.kind === 'lb').reduce((a, c) => a + (c[k] ?? 0), 0);
    const events = s.events.slice(-40).reverse().map((e) => `<tr>
      <td>${esc((e.t_ms / 1000).toFixed(1))} s</td><td>${esc(e.component)}</td><td>${esc(e.event)}</td></tr>`);
    return `<p class="muted">${esc(s.cluster)}, up ${esc(Math.round(s.uptime_ms / 1000))} s</p>` +
      `<p>load balancers: ${esc(total('requests_per_s'))} requests/s, ` +
      `<span class="${okClass(!total('failures_per_s'))}">${esc(total('failures_per_s'))} failed/s</span></p>` +
      table(['component', 'kind', 'health', 'state', 'requests', 'pid', 'listens', 'starts'], rows) +
      '<h2>latest changes</h2>' + table(['when', 'component', 'what'], events);
  },
};

async function tick() {
  const error = document.getElementById('error');
  try {
    const r = await fetch('/status', {cache: 'no-store'});
    if (!r.ok) throw new Error(`/status answered ${r.status}`);
    const s = await r.json();
    const draw = panels[s.component ?? s.role];
    document.title = `failover ${s.role}`;
    document.getElementById('title').textContent = `failover ${s.role ?? ''}`;
    document.getElementById('about').textContent = s.version ? `version ${s.version}` : '';
    document.getElementById('panels').innerHTML =
      draw ? draw(s) : `<p>no panel for role ${esc(s.role)}</p><pre>${esc(JSON.stringify(s, null, 2))}</pre>`;
    error.hidden = true;
  } catch (e) {
    error.textContent = `cannot read /status: ${e.message}`;
    error.hidden = false;
  }
}

tick();
setInterval(tick, 1000);
