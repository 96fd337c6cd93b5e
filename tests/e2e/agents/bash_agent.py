"""A minimal agent with one `bash` tool, for the `command` adapter's tests: the shape of
mini-swe-agent (native tool calls, command output returned as JSON, a sentinel to finish),
in forty lines, on the official SDK. It reads its gateway from OPENAI_BASE_URL and
OPENAI_API_KEY, as any agent built on the SDK does, and exits 3 if a call fails for good."""

import json
import os
import subprocess
import sys

import openai

SENTINEL = "COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT"
TOOL = {
    "type": "function",
    "function": {
        "name": "bash",
        "description": "Run a bash command.",
        "parameters": {
            "type": "object",
            "properties": {"command": {"type": "string"}},
            "required": ["command"],
        },
    },
}
client = openai.OpenAI(max_retries=1)
task = os.environ["ARMBENCH_PROMPT"]
messages = [{"role": "user", "content": f"{task}\n\nFinish with `echo {SENTINEL}`."}]
for _ in range(60):
    try:
        answer = client.chat.completions.create(
            model=os.environ["ARMBENCH_MODEL"], messages=messages, tools=[TOOL], max_tokens=16000
        )
    except openai.APIError as exc:
        print(f"model call failed: {exc}", file=sys.stderr)
        sys.exit(3)
    message = answer.choices[0].message
    messages.append(message.model_dump(exclude_none=True))
    for call in message.tool_calls or []:
        command = json.loads(call.function.arguments)["command"]
        if command.strip() == f"echo {SENTINEL}":
            sys.exit(0)
        done = subprocess.run(command, shell=True, capture_output=True, text=True)
        result = {"returncode": done.returncode, "output": done.stdout + done.stderr}
        messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)})
    if not message.tool_calls:
        sys.exit(0)
sys.exit(4)
