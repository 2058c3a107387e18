// The http action's delivery policy against a real HTTP server on loopback.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpDelivery } from '../../../broker/actions/http.js';

type Handler = (req: IncomingMessage, body: Buffer, res: ServerResponse) => void;

let server: Server;
let url: string;
let handler: Handler;
const received: { headers: IncomingMessage['headers']; body: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      received.push({ headers: req.headers, body: body.toString() });
      handler(req, body, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
});
afterAll(() => {
  server.closeAllConnections();
  return new Promise<void>((r) => server.close(() => r()));
});
beforeEach(() => (received.length = 0));

const json = (body: string) => ({ url, headers: [{ key: 'content-type', value: 'application/json' }, { key: 'x-rule', value: 'r1' }], body: Buffer.from(body) });

describe('http action delivery', () => {
  it('POSTs the body with the given headers and resolves on a 2xx answer', async () => {
    handler = (_req, _body, res) => res.writeHead(204).end();
    const delivery = createHttpDelivery();
    await delivery.send(json('{"a":1}'));
    expect(received).toHaveLength(1);
    expect(received[0].body).toBe('{"a":1}');
    expect(received[0].headers).toMatchObject({ 'content-type': 'application/json', 'x-rule': 'r1' });
    expect(delivery.counters()).toMatchObject({ delivered: 1, failed: 0, retries: 0 });
  });

  it('retries a 5xx or 429 answer and succeeds when the endpoint recovers', async () => {
    let calls = 0;
    handler = (_req, _body, res) => res.writeHead(++calls === 1 ? 503 : calls === 2 ? 429 : 200).end();
    const delivery = createHttpDelivery({ retryDelayMs: 10 });
    await delivery.send(json('{}'));
    expect(calls).toBe(3);
    expect(delivery.counters()).toMatchObject({ delivered: 1, retries: 2 });
  });

  it('gives up after two retries and names the status', async () => {
    handler = (_req, _body, res) => res.writeHead(500).end();
    const delivery = createHttpDelivery({ retryDelayMs: 5 });
    await expect(delivery.send(json('{}'))).rejects.toThrow(/HTTP 500 after 3 attempts/);
    expect(received).toHaveLength(3);
    expect(delivery.counters()).toMatchObject({ failed: 1, retries: 2 });
  });

  it('does not retry a 4xx answer other than 429', async () => {
    handler = (_req, _body, res) => res.writeHead(404).end();
    const delivery = createHttpDelivery({ retryDelayMs: 5 });
    await expect(delivery.send(json('{}'))).rejects.toThrow(/HTTP 404$/);
    expect(received).toHaveLength(1);
  });

  it('fails a delivery that gets no answer within the deadline', async () => {
    handler = () => {}; // never answers
    const delivery = createHttpDelivery({ timeoutMs: 200 });
    await expect(delivery.send(json('{}'))).rejects.toThrow(/no answer within 200 ms/);
  });

  it('fails at once, counted as dropped, when the waiting queue is full', async () => {
    const answers: ServerResponse[] = [];
    handler = (_req, _body, res) => answers.push(res);
    const delivery = createHttpDelivery({ concurrency: 1, maxQueued: 1, timeoutMs: 2000 });
    const first = delivery.send(json('1'));
    const second = delivery.send(json('2'));
    await expect(delivery.send(json('3'))).rejects.toThrow(/already waiting; dropped/);
    expect(delivery.counters()).toMatchObject({ inFlight: 1, queued: 1, dropped: 1 });
    while (answers.length < 1) await new Promise((r) => setTimeout(r, 5));
    answers[0].writeHead(200).end();
    while (answers.length < 2) await new Promise((r) => setTimeout(r, 5));
    answers[1].writeHead(200).end();
    await Promise.all([first, second]);
    expect(delivery.counters()).toMatchObject({ inFlight: 0, queued: 0, delivered: 2 });
  });

  it('fails a refused connection without retrying', async () => {
    const delivery = createHttpDelivery();
    await expect(delivery.send({ url: 'http://127.0.0.1:1/nothing', headers: [], body: Buffer.from('x') })).rejects.toThrow(/POST http:\/\/127\.0\.0\.1:1\/nothing: /);
    expect(delivery.counters().retries).toBe(0);
  });

  it('refuses new deliveries once closed', async () => {
    const delivery = createHttpDelivery();
    await delivery.close();
    await expect(delivery.send(json('{}'))).rejects.toThrow(/stopping/);
  });
});
