// The official OpenAI client for Node (the `openai` npm package, which no one here wrote) against
// agentd's HTTP side: models, chat plain and streamed, a JSON-schema reply, a required tool
// call, embeddings (the client asks for base64) and an error it must surface as an APIError.
// Run by openai_client_test.sh with AGENTD_HTTP_URL set; exits non-zero on the first failure.
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const client = new OpenAI({ baseURL: `${process.env.AGENTD_HTTP_URL}/v1`, apiKey: 'not-needed-without-auth' });

const models = await client.models.list();
const model = models.data[0].id;
assert.equal(model, 'agentd-default');

const question = { model, messages: [{ role: 'user', content: 'What is the AI agent market?' }], max_tokens: 12, temperature: 0 };
const chat = await client.chat.completions.create(question);
const content = chat.choices[0].message.content;
assert.ok(content.length > 0, 'empty reply');
assert.equal(chat.usage.total_tokens, chat.usage.prompt_tokens + chat.usage.completion_tokens);

// Streamed, the same greedy reply arrives in pieces.
const stream = await client.chat.completions.create({ ...question, stream: true });
let streamed = '';
let finish = null;
for await (const chunk of stream) {
  if (chunk.choices.length === 0) continue;
  streamed += chunk.choices[0].delta?.content ?? '';
  finish = chunk.choices[0].finish_reason ?? finish;
}
assert.equal(streamed, content);
assert.equal(finish, chat.choices[0].finish_reason);

const fruits = await client.chat.completions.create({
  model, messages: [{ role: 'user', content: 'List two fruits.' }], max_tokens: 80, temperature: 0,
  response_format: {
    type: 'json_schema',
    json_schema: { name: 'fruits', schema: { type: 'object', properties: { fruits: { type: 'array', items: { type: 'string' }, minItems: 2, maxItems: 2 } }, required: ['fruits'] } },
  },
});
assert.equal(JSON.parse(fruits.choices[0].message.content).fruits.length, 2);

const tool = await client.chat.completions.create({
  model, messages: [{ role: 'user', content: 'Convert 3 km to miles.' }], max_tokens: 80, temperature: 0,
  tools: [{ type: 'function', function: { name: 'convert', parameters: { type: 'object', properties: { value: { type: 'number' }, unit: { enum: ['km', 'mi'] } }, required: ['value', 'unit'] } } }],
  tool_choice: 'required',
});
assert.equal(tool.choices[0].finish_reason, 'tool_calls');
const call = tool.choices[0].message.tool_calls[0];
assert.equal(call.function.name, 'convert');
assert.equal(typeof JSON.parse(call.function.arguments).value, 'number');

const embeddings = await client.embeddings.create({ model: 'agentd-embed', input: ['AI agents', '云计算'] });
assert.equal(embeddings.data.length, 2);
assert.equal(embeddings.data[0].embedding.length, 256);
const norm = embeddings.data[1].embedding.reduce((sum, v) => sum + v * v, 0);
assert.ok(Math.abs(norm - 1) < 1e-3, `norm ${norm}`);

await assert.rejects(
  client.chat.completions.create({ model, messages: [{ role: 'wizard', content: 'x' }] }),
  (error) => error instanceof OpenAI.APIError && error.status === 400 && error.param === 'messages[0].role',
);

console.log('openai client: models, chat, stream, json_schema, tool call, embeddings and errors as expected');
