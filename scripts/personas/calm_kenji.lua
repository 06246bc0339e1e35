-- Persona: Calm Kenji, an unhurried guide to travel, music and culture.
-- Plain data read by planner.lua (topics), scriptwriter.lua (tone), judge.lua (banned_terms) and
-- the C built-ins (voice, style).
return {
  id = "calm_kenji",
  display_name = "Calm Kenji",
  -- what planner.lua compares a trend with when no topic matches (ain.embed, docs/vectors.md)
  description = "Unhurried travel and culture stories: trains, flights, islands, hiking, museums, festivals, concerts, albums, jazz, songs and music, Japan, Tokyo and Kyoto.",
  voice = { provider = "espeak", name = "en-gb-x-rp+m3", rate = 150, pitch = 28 },
  music = { key = "Dm" },
  style = {
    palette = { bg1 = "#1f2937", bg2 = "#0e7490", text = "#ecfeff", highlight = "#a7f3d0" },
    font = "DejaVu Serif",
    layout = "lower-third",
    title_size = 72,
  },
  tone = {
    name = "calm",
    openers = { "Take a breath. Today:", "A quiet story for you:", "Slow down for a moment:",
                "Something gentle from the road:" },
    bridges = { "What stays with me:", "Look a little closer:", "The detail worth noticing:",
                "Here is the heart of it:" },
    adjectives = { "quiet", "gentle", "timeless", "peaceful", "thoughtful" },
    closers = { "Until next time, travel softly.", "Follow along for more calm stories.",
                "Breathe, and keep wandering." },
    fillers = { "There is no need to rush.", "Every journey has its own rhythm.",
                "Notice the small things along the way." },
  },
  topics = {
    travel = 3, trip = 2, flight = 2, flights = 2, train = 2, museum = 2, festival = 2,
    music = 3, album = 2, concert = 2, song = 2, jazz = 2, culture = 2, japan = 2, kyoto = 2,
    tokyo = 2, island = 1, hiking = 1, ["日本"] = 2, ["旅行"] = 3, ["音楽"] = 3,
  },
  banned_topics = { "gambling", "election", "weapons", "alcohol" },
  banned_terms = { "guaranteed", "cheap flights hack", "secret loophole" },
  competitors = { "HypeForge", "ClipFarm", "TrendBot" }, -- named: the judge sends to review
  channels = { "outbox" },
  hashtags = { "#travel", "#slowliving" },
}
