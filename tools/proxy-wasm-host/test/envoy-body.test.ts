// Mirrors the body cases of Envoy's test/extensions/filters/http/wasm/wasm_filter_test.cc (test_body_cpp.cc).
import { beforeAll, describe, expect, test } from '@jest/globals';
import { loadPlugin, type Plugin } from '../src/index';
import { compileFixture } from './helpers';

let wasm: Uint8Array;
beforeAll(() => { wasm = compileFixture('envoy_body'); });

const bodyLogs = (p: Plugin) => p.logs.filter((l) => l.message.startsWith('onBody')).map((l) => l.message);

async function run(op: string, chunks: string[], direction: 'request' | 'response' = 'request') {
  const p = await loadPlugin(wasm);
  const s = p.newStream();
  s.sendRequestHeaders([[':path', '/'], [':method', 'POST'], [':authority', 'h'], ['x-test-operation', op]], direction === 'response');
  const statuses: string[] = [];
  if (direction === 'request') chunks.forEach((c, i) => statuses.push(s.sendRequestBody(c, i === chunks.length - 1)));
  else {
    s.sendResponseHeaders([[':status', '200']], false);
    chunks.forEach((c, i) => statuses.push(s.sendResponseBody(c, i === chunks.length - 1)));
  }
  return { p, s, statuses, logs: bodyLogs(p) };
}

describe('wasm_filter_test.cc body cases', () => {
  test('BodyRequestReadBody', async () => {
    const { logs, statuses, s } = await run('ReadBody', ['hello']);
    expect(logs).toEqual(['onBody hello']);
    expect(statuses).toEqual(['Continue']);
    expect(Buffer.from(s.requestBody).toString()).toBe('hello');
  });

  test('BodyRequestPrependAndAppendToBody (and the same buffer again in the response)', async () => {
    const { p, s, logs, statuses } = await run('PrependAndAppendToBody', ['hello']);
    expect(logs).toEqual(['onBody prepend.hello.append']);
    expect(statuses).toEqual(['StopIterationNoBuffer']);
    // encodeData on the same buffer: Envoy's unit test passes the modified buffer again
    s.sendResponseHeaders([[':status', '200']], false);
    s.sendResponseBody('prepend.hello.append', true);
    expect(bodyLogs(p)[1]).toBe('onBody prepend.prepend.hello.append.append');
  });

  test('BodyRequestReplaceBody', async () => {
    const { logs, statuses } = await run('ReplaceBody', ['hello']);
    expect(logs).toEqual(['onBody replace']);
    expect(statuses).toEqual(['StopIterationAndWatermark']);
  });

  test('BodyRequestPartialReplaceBody -> "partial.replace.ello", then "partial.replace.artial.replace.ello"', async () => {
    const { p, s, logs } = await run('PartialReplaceBody', ['hello']);
    expect(logs).toEqual(['onBody partial.replace.ello']);
    expect(Buffer.from(s.requestBody).toString()).toBe('partial.replace.ello');
    s.sendResponseHeaders([[':status', '200']], false);
    s.sendResponseBody(s.requestBody, true);
    expect(bodyLogs(p)[1]).toBe('onBody partial.replace.artial.replace.ello');
  });

  test('BodyRequestRemoveBody and PartialRemoveBody', async () => {
    expect((await run('RemoveBody', ['hello'])).logs).toEqual(['onBody ']);
    expect((await run('PartialRemoveBody', ['hello'])).logs).toEqual(['onBody ello']);
  });

  test('set_buffer_bytes in the middle of the body is BadArgument', async () => {
    const { p } = await run('MiddleInsert', ['hello']);
    expect(p.logs.map((l) => l.message)).toContain('middle 2');
  });

  test('BodyRequestBufferBody: the next body_size covers everything buffered', async () => {
    const { logs, statuses, s } = await run('BufferBody', ['hello', ' again ', 'hello']);
    expect(logs).toEqual(['onBody hello', 'onBody hello again ', 'onBody hello again hello']);
    expect(statuses).toEqual(['StopIterationAndBuffer', 'StopIterationAndBuffer', 'Continue']);
    expect(Buffer.from(s.requestBody).toString()).toBe('hello again hello');
  });

  test('buffered variants with one eos chunk give the unbuffered strings', async () => {
    expect((await run('PrependAndAppendToBufferedBody', ['hello'])).logs).toEqual(['onBody prepend.hello.append']);
    expect((await run('ReplaceBufferedBody', ['hello'])).logs).toEqual(['onBody replace']);
    expect((await run('PartialReplaceBufferedBody', ['hello'])).logs).toEqual(['onBody partial.replace.ello']);
    expect((await run('RemoveBufferedBody', ['hello'])).logs).toEqual(['onBody ']);
    expect((await run('PartialRemoveBufferedBody', ['hello'])).logs).toEqual(['onBody ello']);
  });

  for (const dir of ['request', 'response'] as const) {
    test(`Body${dir === 'request' ? 'Request' : 'Response'}BufferThenStreamBody`, async () => {
      const { logs, statuses, s } = await run('BufferTwoBodies', ['hello', ', there, ', 'world!', "So it's ", 'goodbye, then!'], dir);
      expect(logs).toEqual(['onBody hello', 'onBody hello, there, ', 'onBody hello, there, world!', "onBody So it's ", 'onBody goodbye, then!']);
      expect(statuses).toEqual(['StopIterationAndBuffer', 'StopIterationAndBuffer', 'Continue', 'Continue', 'Continue']);
      const released = dir === 'request' ? s.requestBody : s.responseBody;
      expect(Buffer.from(released).toString()).toBe("hello, there, world!So it's goodbye, then!");
    });
  }

  test('integration BodyBufferedManipulation (SetEndOfBodies): "request_very_long_body.end"', async () => {
    const { s } = await run('SetEndOfBodies', ['request_', 'very_', 'long_', 'body']);
    expect(Buffer.from(s.requestBody).toString()).toBe('request_very_long_body.end');
  });

  test('integration LargeRequestHitBufferLimit: buffering past the limit answers 413 through the filter', async () => {
    const p = await loadPlugin(wasm, { bufferLimitBytes: 65535 });
    const r = await p.exchange({ method: 'POST', headers: [['x-test-operation', 'BufferBody']], body: 'a'.repeat(65535) + 'very_large', chunkSize: 16384 });
    expect(r.response.status).toBe(413);
    expect(r.response.body).toBe('Payload Too Large');
    expect(r.localReply?.details).toBe('request_payload_too_large');
    expect(r.request?.body).toBe(''); // the headers had left; the body never did
  });
});
