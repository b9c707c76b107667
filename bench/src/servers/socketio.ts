/** Socket.IO 4 with default options (websocket and polling): `join` rooms, `p` publishes to a room. */
import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';

export function startSocketIo(http: HttpServer): void {
  const io = new Server(http, { serveClient: false });
  io.on('connection', (socket) => {
    socket.on('join', (rooms: string[], ack: () => void) => {
      void socket.join(rooms);
      ack();
    });
    socket.on('p', (room: string, payload: string) => {
      io.to(room).emit('m', payload);
    });
  });
}
