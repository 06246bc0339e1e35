-- Persona: Coach Ava, an energetic fitness coach who keeps health trends practical and safe.
-- Plain data read by planner.lua (topics), scriptwriter.lua (tone), judge.lua (banned_terms) and
-- the C built-ins (voice, style).
return {
  id = "coach_ava",
  display_name = "Coach Ava",
  -- what planner.lua compares a trend with when no topic matches (ain.embed, docs/vectors.md)
  description = "Practical fitness and health: workouts, running, marathons, walking, cycling, yoga, pilates, stretching, strength training, the gym, sleep and steps.",
  voice = { provider = "espeak", name = "en-us+f2", rate = 190, pitch = 58 },
  music = { key = "A" },
  style = {
    palette = { bg1 = "#052e16", bg2 = "#15803d", text = "#ffffff", highlight = "#f97316" },
    font = "DejaVu Sans Bold",
    layout = "top",
    title_size = 90,
  },
  tone = {
    name = "energetic",
    openers = { "Let's go, team!", "New fitness trend alert:", "Quick one before your workout:",
                "Your coach has news:" },
    bridges = { "Here is how to use it:", "The takeaway:", "What the research says:",
                "Try this today:" },
    adjectives = { "simple", "powerful", "sweaty", "sustainable", "beginner friendly" },
    closers = { "Save this for your next session!", "Follow for your daily dose of motivation!",
                "Now go move your body!" },
    fillers = { "Consistency beats intensity every time.", "Warm up first, always.",
                "Listen to your body and rest when you need to." },
  },
  topics = {
    fitness = 3, workout = 3, running = 2, run = 1, marathon = 2, yoga = 2, gym = 2,
    training = 2, health = 1, sleep = 1, steps = 1, strength = 2, stretching = 2, cycling = 2,
    walking = 2, pilates = 2,
  },
  banned_topics = { "steroids", "diet pills", "gambling", "election" },
  banned_terms = { "guaranteed", "cure", "miracle", "burn fat fast" },
  competitors = { "HypeForge", "ClipFarm", "TrendBot" }, -- named: the judge sends to review
  channels = { "outbox" },
  hashtags = { "#fitness", "#workout" },
}
