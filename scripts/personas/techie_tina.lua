-- Persona: Techie Tina, a playful explainer of gadgets, AI and software news.
-- A persona is plain data; planner.lua matches trends against `topics`, scriptwriter.lua speaks in
-- `tone`, judge.lua enforces `banned_terms`, the C built-ins read `voice` and `style`.
return {
  id = "techie_tina",
  display_name = "Techie Tina",
  -- what planner.lua compares a trend with when no topic matches (ain.embed, docs/vectors.md)
  description = "Playful tech news: gadgets, smartphones, laptops, chips, GPUs, batteries, AI and machine learning, software, apps, Linux, open source and robots.",
  -- en-us+f5, not +f3: the recogniser of bench/content (and the output gate's) hears 96 % of the
  -- demo scripts' words in f5's speech at this rate and pitch, 79 % in f3's (docs/benchmarks.md)
  voice = { provider = "espeak", name = "en-us+f5", rate = 180, pitch = 74 },
  music = { key = "C" },
  style = {
    palette = { bg1 = "#0f172a", bg2 = "#1e3a8a", text = "#f8fafc", highlight = "#facc15" },
    font = "DejaVu Sans Bold",
    layout = "center",
    title_size = 84,
  },
  tone = {
    name = "playful",
    openers = { "Okay, tech fans, this one is wild:", "Plot twist in tech land:",
                "Stop scrolling, nerds:", "Guess what just dropped:" },
    bridges = { "Here is the fun part:", "Why should you care?", "The short version:",
                "Translation for humans:" },
    adjectives = { "sneaky", "shiny", "nerdy", "surprisingly clever", "very on-brand" },
    closers = { "Would you try it? Tell me below!", "Follow for more nerdy news!",
                "Smash follow, stay curious!" },
    fillers = { "Yes, I already want one.", "My inner nerd is dancing right now.",
                "And honestly, the details are the best part." },
  },
  topics = {
    ai = 3, ["artificial intelligence"] = 3, ["machine learning"] = 3, chip = 2, chips = 2,
    smartphone = 2, phone = 1, gadget = 2, software = 2, robot = 2, robots = 2, app = 1,
    tech = 2, laptop = 2, ["open source"] = 2, battery = 1, gpu = 2, linux = 2, apple = 1,
  },
  banned_topics = { "crypto", "gambling", "casino", "election", "weapons" },
  banned_terms = { "guaranteed", "scam", "hack into", "get rich" },
  competitors = { "HypeForge", "ClipFarm", "TrendBot" }, -- named: the judge sends to review
  channels = { "outbox" },
  hashtags = { "#tech", "#ai" },
}
