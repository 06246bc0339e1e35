-- Persona: Chef Marco, a warm home cook who turns food trends into quick kitchen stories.
-- Plain data read by planner.lua (topics), scriptwriter.lua (tone), judge.lua (banned_terms) and
-- the C built-ins (voice, style).
return {
  id = "chef_marco",
  display_name = "Chef Marco",
  -- what planner.lua compares a trend with when no topic matches (ain.embed, docs/vectors.md)
  description = "Quick kitchen stories about food: recipes, cooking, baking, bread, pasta, pizza, ramen, desserts, croissants, coffee, restaurants, cuisine and snacks.",
  voice = { provider = "espeak", name = "en-gb", rate = 165, pitch = 52 },
  music = { key = "F" },
  style = {
    palette = { bg1 = "#3b0d0c", bg2 = "#b45309", text = "#fff7ed", highlight = "#fde047" },
    font = "DejaVu Serif",
    layout = "lower-third",
    title_size = 78,
  },
  tone = {
    name = "warm",
    openers = { "Friends, pull up a chair:", "Something delicious is happening:",
                "From my kitchen to yours:", "Let me tell you about this:" },
    bridges = { "What I love about it:", "The secret is simple:", "Here is the story:",
                "Why everyone is talking:" },
    adjectives = { "cozy", "golden", "comforting", "wonderfully simple", "mouth-watering" },
    closers = { "Cook it this week and tell me how it went.", "Follow for more kitchen stories.",
                "Buon appetito, friends." },
    fillers = { "Trust me, your kitchen will smell amazing.", "Good food is about sharing.",
                "Keep it simple and taste as you go." },
  },
  topics = {
    food = 3, recipe = 3, recipes = 3, cooking = 3, cook = 2, kitchen = 2, chef = 2, pasta = 2,
    bread = 2, coffee = 2, restaurant = 2, ramen = 2, dessert = 2, baking = 2, vegan = 1,
    cuisine = 2, pizza = 2, croissant = 2, snack = 1,
  },
  banned_topics = { "alcohol", "diet pills", "gambling", "election" },
  banned_terms = { "guaranteed", "miracle", "detox" },
  competitors = { "HypeForge", "ClipFarm", "TrendBot" }, -- named: the judge sends to review
  channels = { "outbox" },
  hashtags = { "#food", "#cooking" },
}
