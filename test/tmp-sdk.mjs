import * as Ably from 'ably';
for (const stream of [true, false]) {
  const c = new Ably.Realtime({ key: 'app.k:secret-secret', endpoint: '127.0.0.1', port: 18931, tls: false, transports: ['comet'], disableConnectivityCheck: true, logLevel: 0, ...(stream ? {} : { transportParams: { stream: false } }) });
  await new Promise((r, j) => { c.connection.once('connected', r); c.connection.once('failed', j); });
  const ch = c.channels.get('x');
  const got = [];
  await ch.subscribe((m) => got.push(m.data));
  const res = await ch.publish('a', 'hello');
  console.log(stream, c.connection.id, JSON.stringify(res));
  await new Promise((r) => setTimeout(r, 200));
  console.log('got', got, await c.connection.ping());
  c.close();
  await new Promise((r) => c.connection.once('closed', r));
}
