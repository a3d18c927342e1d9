// Drives a running `bricks serve` (tiny model, id "tiny") with the official openai
// package: model listing, completions and chat, whole and streamed, and an error.
// Usage: node openai_client.mjs http://127.0.0.1:PORT/v1
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const baseURL = process.argv[2];
const client = new OpenAI({ baseURL, apiKey: 'unused', maxRetries: 0, timeout: 120_000 });
let checks = 0;

const ids = [];
for await (const m of client.models.list()) ids.push(m.id);
assert.deepEqual(ids, ['tiny']);
checks++;

const prompt = 'Once upon a time';
const whole = await client.completions.create({
  model: 'tiny', prompt, max_tokens: 8, temperature: 0,
});
assert.equal(whole.object, 'text_completion');
assert.equal(typeof whole.choices[0].text, 'string');
assert.ok(whole.usage.completion_tokens >= 1 && whole.usage.completion_tokens <= 8);
checks++;

let streamed = '';
const stream = await client.completions.create({
  model: 'tiny', prompt, max_tokens: 8, temperature: 0, stream: true,
});
for await (const chunk of stream) streamed += chunk.choices[0]?.text ?? '';
assert.equal(streamed, whole.choices[0].text);
checks++;

const messages = [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Hello' }];
const chat = await client.chat.completions.create({
  model: 'tiny', messages, max_tokens: 8, temperature: 0,
});
assert.equal(chat.object, 'chat.completion');
assert.equal(chat.choices[0].message.role, 'assistant');
checks++;

let chatText = '';
let usage = null;
const chatStream = await client.chat.completions.create({
  model: 'tiny', messages, max_tokens: 8, temperature: 0, stream: true,
  stream_options: { include_usage: true },
});
for await (const chunk of chatStream) {
  if (chunk.choices.length > 0) chatText += chunk.choices[0].delta.content ?? '';
  if (chunk.usage) usage = chunk.usage;
}
assert.equal(chatText, chat.choices[0].message.content ?? '');
assert.equal(usage.completion_tokens, chat.usage.completion_tokens);
checks++;

await assert.rejects(
  client.completions.create({ model: 'no-such-model', prompt, max_tokens: 1 }),
  (e) => e.status === 404 && /does not exist/.test(e.message),
);
checks++;

console.log(`openai client: ${checks} checks passed`);
