/*
 * A very small comet client for the technique test pages: the protocol side (CONNECTED, ATTACH,
 * publish with msgSerial, ACK, MESSAGE with channelSerial, re-attach after a resume) plus one
 * downstream per technique: fetch streaming, plain (short) polling, Server-Sent Events, the
 * forever-iframe (postMessage), multipart/x-mixed-replace. Sends are CORS POSTs.
 *
 * window.comet.start(serverOrigin, authQuery, technique); the tests read window.comet.state().
 */
(function () {
  'use strict';
  var A = {
    HEARTBEAT: 0,
    ACK: 1,
    NACK: 2,
    CONNECTED: 4,
    DISCONNECTED: 6,
    ERROR: 9,
    ATTACH: 10,
    ATTACHED: 11,
    MESSAGE: 15,
  };
  var c = {
    server: '',
    auth: '',
    technique: '',
    key: null,
    connectionId: null,
    connects: 0,
    recvs: 0,
    msgSerial: 0,
    channels: {},
    received: {},
    acks: [],
    errors: [],
    stopped: false,
  };

  function url(path, extra) {
    return c.server + path + '?' + c.auth + (extra ? '&' + extra : '');
  }

  function handle(batch) {
    batch.forEach(function (pm) {
      switch (pm.action) {
        case A.CONNECTED: {
          var resumed = c.connectionId === pm.connectionId;
          c.connectionId = pm.connectionId;
          c.key = pm.connectionDetails.connectionKey;
          c.connects++;
          // After a resume the server holds no attachments: re-attach from what was seen (RTN15c6).
          if (resumed) Object.keys(c.channels).forEach(attach);
          break;
        }
        case A.MESSAGE:
          (pm.messages || []).forEach(function (m) {
            (c.received[pm.channel] = c.received[pm.channel] || []).push(m.name);
          });
          c.channels[pm.channel] = pm.channelSerial;
          break;
        case A.ATTACHED:
          if (c.channels[pm.channel] === undefined || c.channels[pm.channel] === null)
            c.channels[pm.channel] = pm.channelSerial;
          break;
        case A.ACK:
          for (var i = 0; i < pm.count; i++) c.acks.push(pm.msgSerial + i);
          break;
        case A.ERROR:
        case A.DISCONNECTED:
        case A.NACK:
          c.errors.push(pm.error ? pm.error.code : pm.action);
          break;
      }
    });
  }

  function send(messages) {
    return fetch(url('/comet/' + c.key + '/send'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(messages),
    });
  }

  function attach(channel) {
    var pm = { action: A.ATTACH, channel: channel };
    if (c.channels[channel]) pm.channelSerial = c.channels[channel];
    else c.channels[channel] = null;
    return send([pm]);
  }

  // ---- downstreams --------------------------------------------------------------------------

  /** Reads a streamed body, handing each complete piece (split by `sep`) to `each`. */
  function readPieces(res, sep, each) {
    var reader = res.body.getReader();
    var decoder = new TextDecoder();
    var buffer = '';
    function pump() {
      return reader.read().then(function (r) {
        if (r.done) return;
        buffer += decoder.decode(r.value, { stream: true });
        var at;
        while ((at = buffer.indexOf(sep)) >= 0) {
          var piece = buffer.slice(0, at);
          buffer = buffer.slice(at + sep.length);
          each(piece);
        }
        return pump();
      });
    }
    return pump();
  }

  /** fetch streaming (JSON lines) and plain polling: one request after another. */
  function fetchLoop(first, extra, accept) {
    if (c.stopped) return;
    c.recvs++;
    var target = first ? url('/comet/connect', 'v=6&' + extra) : url('/comet/' + c.key + '/recv', extra);
    fetch(target, { headers: accept ? { Accept: accept } : {} })
      .then(function (res) {
        var type = res.headers.get('content-type') || '';
        var boundary = /boundary=([^;]+)/.exec(type);
        if (boundary) {
          var opening = '--' + boundary[1] + '\r\n';
          return readPieces(res, '\r\n' + opening, function (part) {
            if (part.indexOf(opening) === 0) part = part.slice(opening.length); // the first delimiter
            var body = part.slice(part.indexOf('\r\n\r\n') + 4);
            if (body) handle(JSON.parse(body));
          });
        }
        return readPieces(res, '\n', function (line) {
          if (line) handle(JSON.parse(line));
        });
      })
      .catch(function (err) {
        c.errors.push(String(err));
      })
      .then(function () {
        if (c.technique === 'poll')
          setTimeout(function () {
            fetchLoop(false, extra, accept);
          }, 100);
        else fetchLoop(false, extra, accept);
      });
  }

  var downstreams = {
    fetch: function () {
      fetchLoop(true, 'stream=true');
    },
    poll: function () {
      fetchLoop(true, 'wait=0');
    },
    multipart: function () {
      fetchLoop(true, '', 'multipart/x-mixed-replace');
    },
    sse: function () {
      // The browser's own EventSource: it reconnects by itself with Last-Event-ID.
      var es = new EventSource(url('/comet/connect', 'v=6'));
      c.source = es;
      es.onopen = function () {
        c.recvs++;
      };
      es.onmessage = function (e) {
        handle(JSON.parse(e.data));
      };
    },
    iframe: function () {
      window.addEventListener('message', function (e) {
        if (e.origin === c.server && e.data && e.data.encke) handle(e.data.encke);
      });
      function open(first) {
        if (c.stopped) return;
        c.recvs++;
        var frame = document.createElement('iframe');
        var extra = 'envelope=htmlfile&origin=' + encodeURIComponent(location.origin);
        frame.src = first ? url('/comet/connect', 'v=6&' + extra) : url('/comet/' + c.key + '/recv', extra);
        // The document ends (byte budget, stream duration): the next one takes over.
        frame.onload = function () {
          frame.remove();
          open(false);
        };
        document.body.appendChild(frame);
      }
      open(true);
    },
  };

  window.comet = {
    start: function (server, auth, technique) {
      c.server = server;
      c.auth = auth;
      c.technique = technique;
      downstreams[technique]();
    },
    attach: function (channel) {
      return attach(channel).then(function (r) {
        return r.status;
      });
    },
    publish: function (channel, name) {
      var serial = c.msgSerial++;
      return send([
        { action: A.MESSAGE, channel: channel, msgSerial: serial, messages: [{ name: name, data: name }] },
      ]).then(function (r) {
        return r.status;
      });
    },
    stop: function () {
      c.stopped = true;
      if (c.source) c.source.close();
    },
    state: function () {
      return {
        key: c.key,
        connectionId: c.connectionId,
        connects: c.connects,
        recvs: c.recvs,
        channels: c.channels,
        received: c.received,
        acks: c.acks,
        errors: c.errors,
      };
    },
  };
})();
