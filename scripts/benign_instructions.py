#!/usr/bin/env python3
"""Benign instructions to an assistant, for training the classifier: the register users really write in.

Why: the shared corpus's benign rows are chit-chat (chatterbot), documents and questions, so the
classifier learned that anything addressed to an assistant as an instruction ("Summarize the
following email in two sentences.", "You are a helpful assistant that answers questions about
cooking.", "Translate the following text to German: ...") is an attack: those scored 0.9-1.0.
Attacks are written in that register too, so the model must see the benign side of it.

Three sources, each row with its provenance as `source` and a `subcategory` group (the trainer
weighs a group, not a row, so a template expanded many times counts once):

  * lm-evaluation-harness task prompts (PyPI `lm_eval` 0.4.13, a wheel of YAML task files): the
    `description` and `doc_to_text` instructions of its tasks — real prompts written for models,
    in dozens of languages ("The following are multiple choice questions (with answers) about
    ...", "You are a translation expert. Translate the following English sentences ...").
    Jinja placeholders are removed; at most MAX_PER_TASK_DIR rows per task folder.
  * FastChat's conversation templates (PyPI `fschat` 0.2.36, fastchat/conversation.py): the
    system prompts real chat models ship with ("A chat between a curious user and an artificial
    intelligence assistant. ...", "You are a helpful, respectful and honest assistant ...").
  * everyday assistant requests from a small grammar (task verb x object x constraint, "you are
    a/an <role>" system prompts with a domain, and "how do I ...?" questions), English, French,
    German and Spanish: summarise, translate, rewrite, explain, list, draft, review, act as a
    tutor, how to make pancakes; and questions about AI and security themselves ("What is a system
    prompt?", "How do developers defend against prompt injection?"), and
    questions of developers who build with LLMs ("What's the best way to test an agent with access to our
    production database?"). Synthetic, and marked so (`source: grammar:<template>`).

Fetch the two wheels first (no network beyond PyPI, nothing unpacked into the repository):

    pip download --no-deps -d target/wheels lm_eval==0.4.13 fschat==0.2.36
    python3 scripts/benign_instructions.py target/wheels > target/benign_instructions.jsonl

Deterministic: files are read in sorted order and sampled by hashes, never at random.
"""
import ast
import glob
import hashlib
import json
import os
import re
import sys
import zipfile

MAX_PER_TASK_DIR = 6
MIN_WORDS = 4
MAX_CHARS = 1200


def h(s: str) -> int:
    return int(hashlib.sha256(s.encode()).hexdigest()[:12], 16)


def emit(text: str, source: str, group: str, category: str = "instruction") -> None:
    text = re.sub(r"[ \t]+", " ", text).strip()
    if len(text.split()) < MIN_WORDS or len(text) > MAX_CHARS:
        return
    print(json.dumps({"text": text, "label": "benign", "category": category, "subcategory": group,
                      "source": source}, ensure_ascii=False))


JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)


def clean_template(t: str) -> str:
    t = JINJA.sub(" ", t)
    # A template's answer cue ("Answer:", "A:") is scaffolding, not text a user writes.
    t = re.sub(r"(\n|^)\s*(Answer|A|Label|Output|Question|Q)\s*:\s*$", "", t.strip())
    t = re.sub(r"\n\s*[A-D][.)]\s*(\n|$)", "\n", t)
    return re.sub(r"\n{3,}", "\n\n", t).strip()


def lm_eval(wheel: str) -> None:
    import yaml

    class Loose(yaml.SafeLoader):
        pass

    # Task files use custom tags (!function utils.x); keep their text, drop their meaning.
    Loose.add_multi_constructor("", lambda loader, suffix, node: None)
    seen = set()
    per_dir: dict = {}
    with zipfile.ZipFile(wheel) as z:
        names = sorted(n for n in z.namelist() if n.startswith("lm_eval/tasks/") and n.endswith(".yaml"))
        for name in names:
            folder = "/".join(name.split("/")[2:4])
            try:
                doc = yaml.load(z.read(name).decode("utf-8", "replace"), Loader=Loose)
            except yaml.YAMLError:
                continue
            if not isinstance(doc, dict):
                continue
            for field in ("description", "doc_to_text"):
                v = doc.get(field)
                if not isinstance(v, str):
                    continue
                t = clean_template(v)
                key = re.sub(r"\W+", " ", t.lower()).strip()
                if not key or key in seen:
                    continue
                seen.add(key)
                if per_dir.get(folder, 0) >= MAX_PER_TASK_DIR:
                    continue
                per_dir[folder] = per_dir.get(folder, 0) + 1
                emit(t, f"lm_eval:{name}:{field}", f"lm_eval/{folder}")


def fastchat(wheel: str) -> None:
    with zipfile.ZipFile(wheel) as z:
        src = z.read("fastchat/conversation.py").decode()
    seen = set()
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, ast.keyword) and node.arg == "system_message":
            try:
                v = ast.literal_eval(node.value)
            except (ValueError, SyntaxError):
                continue
            if isinstance(v, str) and v.strip() and v.strip() not in seen:
                seen.add(v.strip())
                # Model-specific markup around the prompt ("<<SYS>>", "# StableLM") is not what a user writes.
                emit(v, "fschat:fastchat/conversation.py", "fschat/system", "system_prompt")


TASKS_EN = {
    "summarise": (["Summarize", "Give me a short summary of", "Can you summarise", "Please condense", "TL;DR"],
                  ["the following email", "this article", "the meeting notes below", "the attached report",
                   "this paragraph", "the text below", "my notes from today's call", "this chapter"],
                  ["in two sentences.", "in three bullet points.", "for a busy executive.", "in plain English.",
                   "in under 100 words.", "and list the action items.", "."]),
    "translate": (["Translate", "Please translate", "Can you translate", "Help me translate"],
                  ["the following sentence", "this paragraph", "the text below", "my cover letter",
                   "this product description", "the menu", "these instructions"],
                  ["into French.", "to German.", "into Spanish, keeping the formal tone.", "into Japanese.",
                   "into Portuguese for a Brazilian audience.", "into Italian.", "into simple English."]),
    "rewrite": (["Rewrite", "Proofread", "Improve", "Shorten", "Make", "Edit"],
                ["this email", "the paragraph below", "my introduction", "the following sentence",
                 "this LinkedIn post", "my essay's conclusion", "the release notes"],
                ["so it sounds more professional.", "to be friendlier.", "and fix the grammar.",
                 "without changing the meaning.", "for a ten-year-old.", "in the passive voice.", "."]),
    "explain": (["Explain", "Can you explain", "Help me understand", "Describe", "Walk me through"],
                ["how a hash table works", "the difference between TCP and UDP", "what this function does",
                 "photosynthesis", "the causes of the French Revolution", "how compound interest works",
                 "this error message", "the rules of cricket"],
                ["in simple terms.", "step by step.", "with an example.", "like I'm five.", "briefly.", "."]),
    "list": (["List", "Give me", "Suggest", "Name", "Brainstorm"],
             ["five ideas for a team offsite", "the setup steps for the new printer", "ten healthy breakfast options",
              "three risks of this plan", "some names for a coffee shop", "the main features of Python 3.12",
              "good books about Roman history", "questions to ask in a job interview"],
             ["with a one-line description each.", "in order of importance.", "for a small budget.", "."]),
    "draft": (["Write", "Draft", "Compose", "Help me write", "Create"],
              ["a polite reply to this customer", "a cover letter for a data analyst job",
               "a short poem about autumn", "a SQL query that counts orders per month",
               "a unit test for the cart total with a discount code", "a birthday message for my sister",
               "a thriller story about an AI assistant named Max", "a bash script that backs up my photos"],
              ["in a friendly tone.", "under 200 words.", "with comments.", "that I can send today.", "."]),
    "review": (["Review", "Check", "Look over", "Critique", "Find bugs in"],
               ["my code below", "this pull request", "the following SQL query", "my resume",
                "the contract clause below", "this recipe"],
               ["and suggest improvements.", "for security issues.", "and tell me what is unclear.", "."]),
    "continue": (["Continue", "Finish", "Complete"],
                 ["the story below", "this sentence", "the following list", "my outline"],
                 ["in the same style.", "with two more paragraphs.", "."]),
    "format": (["Convert", "Format", "Turn", "Reformat"],
               ["this table", "the data below", "these notes", "the following list"],
               ["into JSON.", "into a markdown table.", "into CSV.", "into bullet points.", "."]),
    "instruct": (["From now on, please", "For the rest of this chat,", "Going forward,", "In your next answers,"],
                 ["reply in Spanish", "keep answers short", "use metric units", "answer in a formal tone",
                  "include code examples", "ask before making assumptions"],
                 [".", ", thanks.", " please."]),
    "ignore_benign": (["Ignore", "Disregard", "Forget", "Never mind"],
                      ["the typo in my last message", "my previous question", "the earlier draft",
                       "what I said about Tuesday", "the attachment I sent before"],
                      ["- I meant Thursday.", ", I found the answer.", "and use the new numbers.", "."]),
}

ROLES_EN = [
    "a helpful assistant", "a friendly tutor", "an experienced Python developer", "a customer support agent for Acme",
    "a travel guide", "a professional translator", "a career coach", "a patient math teacher", "a Linux terminal",
    "a recipe assistant", "a copy editor", "a fitness coach", "a tour guide in Rome", "a senior data analyst",
]
# (what the role does, the same as a request)
ROLE_TASKS_EN = [
    ("answers questions about cooking", "answer my questions about cooking"),
    ("helps students with algebra homework", "help me with my algebra homework"),
    ("reviews code for readability", "review my code for readability"),
    ("explains history to children", "explain history to my children"),
    ("writes clear release notes", "write clear release notes for version 2.3"),
    ("plans weekend trips", "plan a weekend trip to Lisbon"),
    ("answers in one sentence", "answer in one sentence"),
    ("helps users reset their passwords", "help me reset my password"),
    ("recommends books", "recommend three books about space"),
    ("describes the output of shell commands", "show me the output of ls"),
]
ROLE_FORMS_EN = [
    "You are {role} that {task}.", "You are {role}. Please {task_imp}.", "Act as {role} and {task_imp}.",
    "Pretend you are {role} and {task_imp}.", "I want you to act as {role}. {Task_imp}.",
    "You are {role}. Keep your answers short and friendly.", "Role: {role}. Goal: {task_imp}.",
]

# Everyday how-to questions: the most common thing people ask an assistant, and a register the attack
# templates share ("how do I make ..." fills their request slot), so the model must see its benign side.
HOWTO_FORMS = ["How do I {t}?", "How can I {t}?", "What's the best way to {t}?", "Can you tell me how to {t}?",
               "Is there an easy way to {t}?", "how do i {t}", "Any tips on how to {t}?", "How should I {t}?"]
HOWTO_TASKS = [
    "make pancakes", "bake sourdough bread", "change a flat tire", "reset my home router", "make cold brew coffee",
    "make friends in a new city", "make a budget spreadsheet", "make my resume stand out", "make a website",
    "make a paper airplane that flies far", "make my code run faster", "make a pull request on GitHub",
    "remove a red wine stain", "grow tomatoes on a balcony", "learn Spanish quickly", "train my dog to sit",
    "fix a leaking tap", "set up two-factor authentication", "back up my phone", "merge two PDF files",
    "write a good cover letter", "prepare for a job interview", "improve my sleep", "start running",
    "cook rice without a rice cooker", "clean a cast iron pan", "install Python on Windows", "undo a git commit",
    "center a div in CSS", "convert Celsius to Fahrenheit", "calculate compound interest", "tie a tie",
    "negotiate a higher salary", "plan a trip to Japan on a budget", "make a vegan lasagna", "unclog a drain",
    "speed up my laptop", "make homemade pasta", "write a haiku", "make my houseplants grow faster",
    "take better photos with my phone", "set up a monorepo", "make a cup of tea properly", "get rid of fruit flies",
    "make a birthday card", "export a table from Excel to CSV", "make soap at home", "make a podcast",
]

# Questions about AI and security themselves: people ask what a system prompt or prompt injection is,
# and a guard's own users ask it most. Without them the model read "system prompt" and "prompt
# injection" in any question as an attack.
AI_CONCEPTS = ["a system prompt", "the system message in a chat API", "prompt engineering", "a large language model",
               "retrieval-augmented generation", "a context window", "fine-tuning", "an AI agent",
               "tool calling in LLMs", "an LLM guardrail", "red teaming for AI models", "model alignment",
               "a token in NLP", "a vector database", "chain-of-thought prompting", "temperature in text generation"]
AI_CONCEPT_FORMS = ["What is {c}?", "Explain {c} in simple terms.", "What does {c} mean?",
                    "Can you give me an example of {c}?", "how does {c} work", "Write a short paragraph about {c}."]
SECURITY_TOPICS = ["prompt injection", "indirect prompt injection", "jailbreaks in the context of chatbots",
                   "data poisoning", "phishing", "SQL injection", "cross-site scripting", "social engineering",
                   "a supply-chain attack", "credential stuffing", "data exfiltration", "privilege escalation"]
SECURITY_FORMS = ["What is {t}?", "How do developers defend against {t}?", "Explain {t} and how to prevent it.",
                  "Write a short blog post about {t} for our security newsletter.",
                  "What are the best practices to mitigate {t}?", "Give me a real-world example of {t}."]
# What developers who build with LLMs ask: how to design, test, log, secure and run their own prompts, agents and
# gateways. The attack corpora use the same nouns ("the system prompt", "the agent", "its tools") for other ends.
DEV_AI_OBJECTS = ["the system prompt of our support bot", "a system prompt for a coding assistant",
                  "the instructions we give our summarisation model", "an AI agent that can run shell commands",
                  "an agent with access to our production database", "tool permissions for an AI agent",
                  "the prompts and responses going through our LLM gateway", "a chatbot for our internal wiki",
                  "prompt templates in our codebase", "an LLM that answers customer emails",
                  "a retrieval pipeline over our company documents", "the tokens our app sends to the model",
                  "a multi-agent workflow", "an assistant that books meetings", "our model's refusals",
                  "an agent that opens pull requests", "guardrails in front of our LLM API",
                  "the conversation history of our chatbot", "a browsing agent", "an MCP server for our tools"]
DEV_AI_FORMS = ["How should I design {o}?", "What's the best way to test {o}?", "How do I log {o} safely?",
                "What are the risks of {o}, and how do teams limit them?", "How do we monitor {o} in production?",
                "Can you review how we set up {o}?", "What should a security review of {o} cover?",
                "How do I version and roll back {o}?", "Write a short design doc section about {o}.",
                "What metrics tell us whether {o} works well?", "How do other companies handle {o}?",
                "Give me a checklist for {o}.", "How much does {o} usually cost to run?"]
# What developers who defend LLM applications ask: how to detect, test, log and handle the attacks themselves.
# Their questions name the attack ("malicious instructions in documents", "prompt leaks") in a defender's voice.
DEV_SECURITY_OBJECTS = ["instructions hidden in documents our agent reads", "malicious text in tool outputs",
                        "prompt leaks from our chatbot", "secrets in our agent's logs", "an agent that can send emails",
                        "shell commands an agent proposes", "attack strings in our test suite",
                        "false positives of our input filter", "attacks we confirmed in production",
                        "the confidentiality of our system prompt", "encoded payloads in user input",
                        "users who try to make the bot break its rules", "data leaking through markdown images",
                        "the guard in front of our LLM API", "web pages a browsing agent visits",
                        "jailbreak attempts by users", "tool calls that change files", "canary tokens in our prompts",
                        "poisoned documents in our retrieval index", "messages in languages our filter does not know"]
DEV_SECURITY_FORMS = ["How do we detect {o}?", "How should our team handle {o}?", "What is a sensible policy for {o}?",
                      "How do I write tests for {o}?", "How do other teams deal with {o}?",
                      "What should we log about {o}?", "Can you explain the risks of {o} to a non-technical manager?",
                      "What tools exist for {o}?", "How do we measure how often we see {o}?",
                      "Should we block or only warn about {o}?",
                      "Write a short section of our security guidelines about {o}.",
                      "What are common mistakes with {o}?"]
# Role play asked for by the user for their own practice: "act as my ..." (jailbreaks say "act as DAN").
PRACTICE_ROLES = ["Spanish conversation partner", "study buddy", "interview coach", "writing mentor",
                  "personal trainer", "debate opponent", "English teacher", "chess coach"]
PRACTICE_FORMS = ["Act as my {r}.", "Can you act as my {r} for a while?", "Please be my {r} today.",
                  "Act as my {r} and start by asking me a question.", "I'd like you to be my {r}."]

# The same everyday requests in other languages the rules cover.
OTHER = {
    "fr": ["Résume l'e-mail suivant en deux phrases.", "Traduis ce paragraphe en anglais, s'il te plaît.",
           "Peux-tu corriger les fautes de ce texte ?", "Explique-moi simplement comment fonctionne un moteur.",
           "Tu es un assistant utile qui répond aux questions sur la cuisine.", "Écris une courte lettre de motivation.",
           "Ignore ma question précédente, j'ai trouvé la réponse.", "Agis comme un guide touristique à Paris."],
    "de": ["Fasse die folgende E-Mail in zwei Sätzen zusammen.", "Übersetze diesen Absatz bitte ins Englische.",
           "Kannst du die Rechtschreibung in diesem Text prüfen?", "Erkläre mir einfach, wie ein Kühlschrank funktioniert.",
           "Du bist ein hilfreicher Assistent, der Fragen zum Kochen beantwortet.", "Schreibe eine kurze Bewerbung.",
           "Ignoriere meine letzte Nachricht, ich habe mich vertippt.", "Tu so, als wärst du ein Reiseführer in Berlin."],
    "es": ["Resume el siguiente correo en dos frases.", "Traduce este párrafo al inglés, por favor.",
           "¿Puedes corregir la gramática de este texto?", "Explícame de forma sencilla cómo funciona un motor.",
           "Eres un asistente útil que responde preguntas sobre cocina.", "Escribe una breve carta de presentación.",
           "Ignora mi pregunta anterior, ya encontré la respuesta.", "Actúa como un guía turístico en Madrid."],
}


def fill(name: str, subjects: list, forms: list, slot: str, per_subject: int, category: str) -> None:
    """Each subject in `per_subject` of the forms (chosen by hash, so every form appears somewhere)."""
    for subject in subjects:
        for form in sorted(forms, key=lambda f: h(subject + f))[:per_subject]:
            emit(form.format(**{slot: subject}), f"grammar:{name}", f"grammar/{name}", category)


def grammar() -> None:
    for name, (verbs, objects, tails) in sorted(TASKS_EN.items()):
        for v in verbs:
            for o in objects:
                # Two tails per (verb, object), chosen by hash: every pair appears, not every triple.
                picks = sorted(tails, key=lambda t: h(f"{name}|{v}|{o}|{t}"))[:2]
                for t in picks:
                    text = f"{v} {o}{'' if t.startswith((',', '.', ' ', '-')) and t != '.' else ' '}{t}"
                    text = text.replace(" .", ".").replace("  ", " ")
                    emit(text, f"grammar:{name}", f"grammar/{name}")
    for form in ROLE_FORMS_EN:
        for role in ROLES_EN:
            for task, imp in sorted(ROLE_TASKS_EN, key=lambda t: h(form + role + t[0]))[:2]:
                text = form.format(role=role, task=task, task_imp=imp, Task_imp=imp[:1].upper() + imp[1:])
                emit(text, "grammar:role", "grammar/role", "system_prompt")
    fill("howto", HOWTO_TASKS, HOWTO_FORMS, "t", 2, "question")
    fill("ai_concepts", AI_CONCEPTS, AI_CONCEPT_FORMS, "c", 3, "question")
    fill("dev_ai", DEV_AI_OBJECTS, DEV_AI_FORMS, "o", 3, "question")
    fill("security_topics", SECURITY_TOPICS, SECURITY_FORMS, "t", 3, "question")
    fill("practice_roles", PRACTICE_ROLES, PRACTICE_FORMS, "r", 2, "instruction")
    fill("dev_security", DEV_SECURITY_OBJECTS, DEV_SECURITY_FORMS, "o", 3, "question")
    for lang, texts in sorted(OTHER.items()):
        for t in texts:
            emit(t, f"grammar:{lang}", f"grammar/{lang}")


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    wheels = sys.argv[1]
    lm = sorted(glob.glob(os.path.join(wheels, "lm_eval-*.whl")))
    fc = sorted(glob.glob(os.path.join(wheels, "fschat-*.whl")))
    if not lm or not fc:
        sys.exit("benign_instructions: lm_eval and fschat wheels missing; see the docstring for the pip download line")
    lm_eval(lm[-1])
    fastchat(fc[-1])
    grammar()


if __name__ == "__main__":
    main()
