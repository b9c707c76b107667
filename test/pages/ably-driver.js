/*
 * Drives the official ably-js browser build loaded on this page (2.x or 1.2.50) for the browser
 * tests: clients by name, what each subscription received, promise-based calls whatever the SDK
 * version (1.x is callback-based unless constructed through Ably.Realtime.Promise).
 */
(function () {
  'use strict';
  var clients = {};
  var received = {};
  var states = {};
  var active = {};

  function client(name) {
    var c = clients[name];
    if (!c) throw new Error('no client ' + name);
    return c;
  }

  function plain(m) {
    return {
      name: m.name,
      data: m.data,
      id: m.id,
      clientId: m.clientId,
      connectionId: m.connectionId,
      action: m.action,
    };
  }

  window.driver = {
    version: Ably.Realtime.Promise ? 1 : 2,

    create: function (name, options) {
      var Ctor = Ably.Realtime.Promise || Ably.Realtime;
      var c = new Ctor(options);
      clients[name] = c;
      states[name] = [];
      active[name] = [];
      // Every transport that became active, with the connection id then (an upgrade keeps it).
      c.connection.connectionManager.on('transport.active', function (t) {
        active[name].push(t.shortName + ' ' + c.connection.id);
      });
      c.connection.on(function (change) {
        states[name].push(
          change.current + (change.reason ? ' ' + change.reason.code + ' ' + change.reason.message : ''),
        );
      });
    },

    /** Resolves at `state`; rejects on failed/closed first. */
    waitState: function (name, state, timeoutMs) {
      var c = client(name);
      return new Promise(function (resolve, reject) {
        if (c.connection.state === state) return resolve(state);
        var timer = setTimeout(function () {
          reject(new Error(name + ' not ' + state + ' within ' + timeoutMs + ' ms: ' + states[name].join(', ')));
        }, timeoutMs);
        c.connection.on(function listener(change) {
          if (change.current === state) {
            clearTimeout(timer);
            c.connection.off(listener);
            resolve(state);
          } else if ((change.current === 'failed' || change.current === 'closed') && state !== 'closed') {
            clearTimeout(timer);
            c.connection.off(listener);
            reject(new Error(name + ' went ' + change.current + ': ' + states[name].join(', ')));
          }
        });
      });
    },

    states: function (name) {
      return states[name].slice();
    },

    activeTransports: function (name) {
      return active[name].slice();
    },

    info: function (name) {
      var c = client(name);
      var protocol = c.connection.connectionManager && c.connection.connectionManager.activeProtocol;
      return {
        state: c.connection.state,
        id: c.connection.id,
        key: c.connection.key,
        transport: protocol && protocol.transport ? protocol.transport.shortName : null,
      };
    },

    subscribe: function (name, channel) {
      var key = name + '/' + channel;
      received[key] = received[key] || [];
      return client(name)
        .channels.get(channel)
        .subscribe(function (m) {
          received[key].push(plain(m));
        })
        .then(function () {});
    },

    received: function (name, channel) {
      return received[name + '/' + channel] || [];
    },

    publish: function (name, channel, messageName, data) {
      return client(name)
        .channels.get(channel)
        .publish(messageName, data)
        .then(function () {});
    },

    enter: function (name, channel, data) {
      return client(name)
        .channels.get(channel)
        .presence.enter(data)
        .then(function () {});
    },

    presence: function (name, channel) {
      return client(name)
        .channels.get(channel)
        .presence.get()
        .then(function (members) {
          return members.map(plain);
        });
    },

    history: function (name, channel) {
      return client(name)
        .channels.get(channel)
        .history({ direction: 'forwards' })
        .then(function (page) {
          return page.items.map(plain);
        });
    },

    close: function (name) {
      var c = clients[name];
      if (!c) return Promise.resolve();
      delete clients[name];
      return new Promise(function (resolve) {
        if (c.connection.state === 'closed' || c.connection.state === 'failed') return resolve();
        c.connection.once('closed', function () {
          resolve();
        });
        c.connection.once('failed', function () {
          resolve();
        });
        c.close();
        setTimeout(resolve, 3000);
      });
    },
  };
})();
