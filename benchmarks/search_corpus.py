"""The hand-written corpus for `bench_search.py`: 216 wiki pages on clearly distinct topics (18
categories of 12) and paraphrased queries whose right page is known.

Each page is one logical line `Title | lead | first section | second section` under a
`= Category | first heading | second heading` line; lines indented by four spaces continue the
previous one. `pages()` renders them as markdown: a `# Title` heading, the lead, and the two
sections under the category's `##` headings (every fifth page has plain paragraphs without
headings instead, every third one ends with a `## See also` list of wikilinks to two other pages of
its category).

Each query is `Title | query`; `paraphrase_problems()` checks that no content word of a query (nor
a simple stem of one) occurs in its page, so the queries really are paraphrases. Run this module
to see the check: `python benchmarks/search_corpus.py`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import search_corpus_ops

PAGES = """
= Animals | Appearance | Behaviour
Spiders | Spiders are arachnids with eight legs, found on every continent except Antarctica. There
    are more than fifty thousand known species. | The body has two parts, a cephalothorax and an
    abdomen, and most species have eight eyes and fangs that inject venom. | Many weave sticky orb
    webs from thread made in their spinnerets and wait for insects to blunder into them; wolf
    spiders and jumping spiders stalk their prey instead.
Owls | Owls are nocturnal birds of prey with large forward-facing eyes set in a flat facial disc. |
    Soft fringed feathers let them fly almost silently, and asymmetrical ear openings help them
    pinpoint sounds in the dark. | They swallow mice and voles whole and later cough up pellets of
    fur and bone. Many species can turn their heads through about 270 degrees.
Dolphins | Dolphins are toothed whales, marine mammals closely related to porpoises and orcas. |
    They have a streamlined grey body, a curved dorsal fin and a blowhole on top of the head
    through which they breathe air. | Pods hunt fish together and locate food by echolocation,
    sending out clicks and listening to the echoes. Dolphins are known for leaping, playing and
    whistling to one another.
Bees | Bees are flying insects that feed on nectar and pollen and pollinate a large share of
    flowering crops. | A worker honeybee has a barbed sting, pollen baskets on its hind legs and
    two pairs of wings. | A colony lives in a hive ruled by one queen; workers build wax combs,
    store nectar as honey and tell each other where flowers are with a waggle dance.
Elephants | Elephants are the largest living land animals, found in the savannas and forests of
    Africa and southern Asia. | They have a long muscular trunk, huge ears that help shed heat and
    ivory tusks that are elongated incisor teeth. | Herds are led by an old matriarch, calves are
    looked after by the whole family group, and elephants communicate with low rumbles that carry
    for kilometres.
Penguins | Penguins are flightless seabirds of the Southern Hemisphere, from the Antarctic ice to
    the Galapagos Islands. | Their wings have become stiff flippers, and a black back and white
    belly camouflage them while swimming. | They dive for fish and krill and gather in large
    breeding colonies. Emperor males keep the egg warm on their feet through the polar winter.
Bats | Bats are mammals capable of true powered flight, with wings of skin stretched between long
    finger bones. | Most are small, with large ears and a furry body; fruit bats have big eyes and
    a dog-like face. | They roost upside down in caves and attics by day, and many insect-eating
    bats navigate by echolocation. Some species hibernate through winter.
Octopuses | Octopuses are soft-bodied cephalopods with eight arms lined with suckers and no
    internal skeleton. | They have three hearts, blue blood and skin cells called chromatophores
    that change colour and texture in a fraction of a second. | Octopuses are clever problem
    solvers that open jars, squeeze through tiny gaps and squirt ink to escape predators.
Beavers | Beavers are large rodents of North America and Eurasia with a flat, scaly tail and orange
    front teeth that never stop growing. | Their thick waterproof fur and webbed hind feet make
    them strong swimmers. | Beavers fell trees with their teeth and build dams of branches and mud,
    creating ponds where they raise their kits in a lodge.
Camels | Camels are large hoofed animals adapted to deserts; the dromedary has one hump and the
    Bactrian camel has two. | The hump stores fat, not water, and long eyelashes and closable
    nostrils keep out sand. | A thirsty camel can drink over a hundred litres in a few minutes, and
    camels have carried people and goods across the Sahara and Central Asia for thousands of years.
Snails | Snails are gastropod molluscs that carry a coiled shell on their back. | They glide on a
    single muscular foot over a trail of mucus, and their eyes sit at the tips of long tentacles. |
    Garden snails graze on leaves with a rasping tongue called a radula, and in dry weather they
    seal themselves inside the shell.
Wolves | Wolves are wild canines, the largest members of the dog family, living across North
    America, Europe and Asia. | They have thick grey fur, long legs and powerful jaws. | Wolves
    live in packs led by a breeding pair, chase deer, elk and moose over long distances, and howl
    to keep in touch.

= Foods | Ingredients | History and serving
Bread | Bread is a staple food baked from a dough of flour and water, usually leavened with yeast
    or a sourdough starter. | Wheat flour provides gluten, which forms an elastic network that
    traps the carbon dioxide released by fermenting yeast. | Bread has been made since the
    Neolithic; today loaves range from French baguettes to German rye and Indian naan baked in a
    tandoor.
Cheese | Cheese is a dairy product made by curdling milk with rennet or acid and pressing out the
    whey. | Cow, goat, sheep and buffalo milk are all used, and bacteria and moulds give each
    variety its flavour. | Hard cheeses such as Parmesan are aged for years, while fresh ones like
    mozzarella are eaten within days; blue cheeses are pierced so that Penicillium can grow inside.
Sushi | Sushi is a Japanese dish of vinegared rice combined with raw fish, seafood or vegetables. |
    Short-grain rice is seasoned with rice vinegar, sugar and salt, and sheets of nori seaweed wrap
    the rolls. | It began as a way of preserving fish in fermented rice; nigiri and maki are now
    eaten worldwide with soy sauce, wasabi and pickled ginger.
Chocolate | Chocolate is made from the roasted and ground seeds of the cacao tree, native to
    Central and South America. | Cocoa beans are fermented, dried, roasted and conched, then mixed
    with sugar, cocoa butter and sometimes milk powder. | The Maya and Aztecs drank bitter cacao
    with chili; Europeans sweetened it, and today bars, truffles and hot cocoa are enjoyed around
    the world.
Pasta | Pasta is an Italian staple made from durum wheat semolina and water, sometimes enriched
    with egg. | The dough is extruded through bronze dies or rolled and cut into shapes such as
    spaghetti, penne, fusilli and lasagne sheets. | Dried pasta is boiled in salted water until al
    dente and served with sauces from simple tomato to carbonara.
Curry | Curry is a broad name for dishes of meat, fish, legumes or vegetables simmered in a spiced
    sauce, rooted in the cooking of the Indian subcontinent. | Typical spices include turmeric,
    cumin, coriander, cardamom and chili, often fried in ghee or oil at the start. | British, Thai
    and Japanese cooks developed their own versions, and a curry is usually eaten with rice or
    flatbread.
Yogurt | Yogurt is milk fermented by lactic acid bacteria such as Lactobacillus bulgaricus and
    Streptococcus thermophilus. | The bacteria turn lactose into lactic acid, which thickens the
    milk and gives it a tangy taste. | Strained Greek yogurt is thick and high in protein, and
    yogurt is eaten plain, with fruit or in drinks such as lassi and ayran.
Pizza | Pizza is a flat round of yeasted dough topped with tomato sauce and cheese and baked in a
    very hot oven. | The classic Neapolitan margherita uses San Marzano tomatoes, mozzarella, basil
    and olive oil. | Pizza came from Naples and spread with Italian emigrants; New York slices,
    Chicago deep dish and frozen supermarket versions followed.
Tofu | Tofu is bean curd made by coagulating soy milk and pressing the curds into soft or firm
    white blocks. | Soybeans are soaked, ground and boiled, and the milk is set with nigari, gypsum
    or lemon juice. | Tofu originated in China about two thousand years ago and is a protein-rich
    part of vegetarian and Buddhist cooking across East Asia.
Pancakes | Pancakes are thin or fluffy flat cakes made from a batter of flour, eggs and milk and
    cooked on a griddle or frying pan. | Baking powder makes American pancakes rise, while French
    crêpes are thin and unleavened. | They are eaten with maple syrup, butter, lemon or jam, and in
    Britain many families flip them on Shrove Tuesday.
Kimchi | Kimchi is a Korean side dish of salted and fermented vegetables, most often napa cabbage
    and radish. | The vegetables are seasoned with chili flakes, garlic, ginger, scallions and fish
    sauce or salted shrimp. | Families traditionally make large batches in autumn for winter,
    storing them in earthenware jars, and kimchi is served with almost every Korean meal.
Popcorn | Popcorn is a snack of corn kernels that puff up when heated. | Each kernel holds a little
    water inside a hard hull; as it heats, the water turns to steam until the hull bursts and the
    starch foams out. | Popcorn has been eaten in the Americas for thousands of years and became
    the classic cinema snack, served with butter and salt or caramel.

= Crafts | Materials | Technique
Pottery | Pottery is the craft of shaping clay into vessels and firing them in a kiln to make them
    hard and durable. | Earthenware, stoneware and porcelain clays fire at different temperatures,
    and glazes made of silica and metal oxides give a glassy surface. | Potters throw pots on a
    spinning wheel or build them by hand with coils and slabs, then trim, dry and fire them.
Knitting | Knitting turns a continuous strand of yarn into fabric by pulling loops through other
    loops with a pair of needles. | Wool, cotton, alpaca and acrylic yarns come in weights from
    fine lace to chunky. | The two basic stitches are knit and purl; combining them makes ribbing,
    cables and lace, and patterns are read from charts or written instructions.
Glassblowing | Glassblowing is the art of inflating molten glass into a bubble with a blowpipe. |
    The glass is a mix of silica sand, soda ash and lime melted in a furnace at more than a
    thousand degrees Celsius. | The gaffer gathers a glob on the pipe, blows into it and shapes it
    with jacks, wooden blocks and wet newspaper before cooling it slowly in an annealer.
Woodcarving | Woodcarving is shaping wood by cutting it away with knives, gouges and chisels. |
    Soft, fine-grained woods like basswood, lime and butternut are easiest to carve, while oak and
    walnut are harder. | Carvers work with the grain to avoid tearing, rough out the form first,
    then refine details such as faces, feathers or leaves.
Quilting | Quilting stitches together three layers: a pieced top, a soft batting in the middle and
    a backing fabric. | Quilters cut cotton fabric into squares, triangles and strips and sew them
    into blocks. | The layers are held together by lines of stitching by hand or on a long-arm
    sewing machine, and traditional patterns include log cabin and flying geese.
Blacksmithing | Blacksmithing is forging iron and steel by heating the metal in a forge and
    hammering it on an anvil. | Smiths burn coal, coke or gas and judge the temperature of the
    metal by its glowing colour. | Techniques include drawing out, upsetting, bending and punching,
    and a blade is hardened by quenching it in oil or water.
Origami | Origami is the Japanese art of folding a single square sheet of paper into a figure
    without cutting or gluing. | Traditional kami paper is thin and crisp, while washi and foil
    papers are used for complex models. | Models start from bases such as the bird base and use
    valley and mountain folds; the crane is the most famous design.
Weaving | Weaving interlaces two sets of threads at right angles, the lengthwise warp and the
    crosswise weft, to make cloth. | Weavers use wool, linen, cotton and silk thread wound on a
    loom. | The warp is held under tension while a shuttle carries the weft over and under, and
    patterns such as twill and tartan come from how the threads alternate.
Bookbinding | Bookbinding is the craft of assembling folded sheets of paper into a book with a
    cover. | Binders use linen thread, bookcloth, leather, boards and wheat paste or PVA glue. |
    Folded signatures are sewn together along the spine, the text block is rounded and backed, and
    the cover is attached and pressed.
Candle making | Candle making is the craft of pouring or dipping wax around a wick. | Paraffin,
    soy, beeswax and palm wax are common, with cotton wicks and fragrance oils or dyes. | Dipped
    tapers are built up layer by layer, while container candles are poured at the right temperature
    to avoid sinkholes and frosting.
Stained glass | Stained glass windows are pictures made of coloured glass pieces joined by strips
    of lead. | Colour comes from metallic oxides added to the molten glass, and details are painted
    with vitreous paint and fired. | The artist cuts each piece to a full-size cartoon, fits it
    into H-shaped lead came and solders the joints; Gothic cathedrals such as Chartres are famous
    for them.
Leatherworking | Leatherworking is making belts, wallets, bags and saddles from tanned animal
    hides. | Vegetable-tanned cowhide can be carved and tooled, while chrome-tanned leather is soft
    and supple. | Leatherworkers cut with a round knife, punch holes with pricking irons and saddle
    stitch by hand with two needles and waxed thread.

= Sciences | Subject | Methods
Astronomy | Astronomy is the scientific study of stars, planets, galaxies and everything else
    beyond Earth's atmosphere. | Astronomers ask how stars form and die, how galaxies evolve and
    how the universe began. | They collect light with optical and radio telescopes on mountaintops
    and in orbit, and measure spectra to learn what distant objects are made of.
Geology | Geology is the study of the solid Earth, its rocks and minerals and the processes that
    shape them. | Geologists study plate tectonics, volcanoes, earthquakes, erosion and the rock
    cycle over millions of years. | They map outcrops in the field, read layers of sedimentary
    strata and date rocks with radiometric methods.
Genetics | Genetics is the study of genes, heredity and variation in living organisms. | Genes are
    stretches of DNA that code for proteins, and Gregor Mendel's pea experiments first showed how
    traits pass to offspring. | Modern geneticists sequence genomes, compare mutations between
    populations and edit DNA with CRISPR.
Meteorology | Meteorology is the science of the atmosphere, concerned mainly with weather and
    forecasting. | Meteorologists study air pressure, temperature, humidity, wind and the fronts
    between air masses. | Observations from weather balloons, radar and satellites feed numerical
    models run on supercomputers to predict the coming days.
Oceanography | Oceanography is the study of the oceans, from currents and tides to marine life and
    the seabed. | It covers physical oceanography, marine chemistry, biology and the geology of the
    ocean floor. | Research ships, floating Argo buoys, submersibles and satellites measure
    temperature, salinity and sea level.
Paleontology | Paleontology is the study of ancient life through fossils. | Paleontologists study
    dinosaurs, trilobites, early mammals and fossil plants to understand evolution and extinction.
    | They excavate bones from rock layers, prepare them in the lab and date them using the
    surrounding strata.
Neuroscience | Neuroscience is the study of the nervous system, from single neurons to the whole
    brain. | It asks how neurons signal with electrical impulses and neurotransmitters, and how
    memory, movement and perception arise. | Researchers record from cells with electrodes, image
    the living brain with fMRI and study animal models and patients.
Thermodynamics | Thermodynamics is the branch of physics dealing with heat, work, temperature and
    energy. | Its laws state that energy is conserved, that the entropy of an isolated system never
    decreases and that absolute zero cannot be reached. | Engineers apply it to engines,
    refrigerators and power plants, using cycles such as the Carnot and Rankine cycles.
Optics | Optics is the branch of physics that studies the behaviour of light. | It covers
    reflection, refraction, diffraction, interference and polarization, and how light interacts
    with matter. | Lenses, mirrors and prisms are designed with ray tracing, while lasers and fibre
    optics rely on wave optics.
Microbiology | Microbiology is the study of microscopic organisms such as bacteria, viruses, fungi
    and protozoa. | Microbiologists study how microbes cause disease, ferment food and cycle
    nutrients in soil. | They grow cultures on agar plates, stain cells for the microscope and
    sequence microbial DNA.
Linguistics | Linguistics is the scientific study of language and its structure. | Its branches
    include phonetics, phonology, morphology, syntax, semantics and historical linguistics. |
    Linguists record speakers, compare related languages to reconstruct ancestors such as
    Proto-Indo-European, and analyse large text corpora.
Cryptography | Cryptography is the practice of securing communication so that only the intended
    recipient can read it. | It covers ciphers, hash functions, digital signatures and key
    exchange. | Modern systems such as AES and RSA rely on mathematical problems that are hard to
    solve without a secret key, while older ones like the Enigma machine were broken by
    codebreakers at Bletchley Park.

= Sports | Rules | Competition
Soccer | Soccer, called football in most of the world, is played by two teams of eleven with a
    round ball. | Players may not handle the ball except the goalkeeper, and a match lasts two
    halves of forty-five minutes. | The FIFA World Cup, held every four years, is the most watched
    sporting event, and club competitions include the Champions League.
Tennis | Tennis is a racket sport played on a rectangular court with a net, either one against one
    or in doubles. | Points are scored love, fifteen, thirty, forty and game, and a set is won with
    six games. | The four Grand Slam tournaments are the Australian Open, Roland Garros, Wimbledon
    on grass and the US Open.
Basketball | Basketball is played by two teams of five who score by shooting a ball through a hoop
    ten feet high. | Players dribble to move with the ball, and baskets from beyond the arc count
    for three points. | James Naismith invented the game in 1891, and the NBA is the top
    professional league.
Rowing | Rowing propels a narrow boat with oars, the rowers sitting backwards to the direction of
    travel. | Crews race in singles, pairs, fours and eights, and the coxswain steers and calls the
    rhythm. | Olympic regattas are raced over two thousand metres, and the Oxford and Cambridge
    Boat Race on the Thames dates from 1829.
Archery | Archery is shooting arrows with a bow at a target. | Olympic recurve archers aim at a
    face with ten scoring rings from seventy metres away. | Compound bows use pulleys and cams, and
    traditional longbows were decisive in medieval battles such as Agincourt.
Fencing | Fencing is sword fighting as a sport, with three weapons: foil, épée and sabre. | Fencers
    score touches on a narrow piste, and electric scoring equipment registers hits. | Right of way
    rules apply in foil and sabre, and fencing has been part of every modern Olympic Games.
Golf | Golf is played by hitting a small ball into a series of holes on a course with as few
    strokes as possible. | A standard round has eighteen holes, each with a par, and players carry
    woods, irons and a putter. | The major championships include the Masters at Augusta and The
    Open, first played in Scotland in 1860.
Marathon | The marathon is a long-distance running race of 42.195 kilometres. | It recalls the
    legend of the messenger Pheidippides, who ran from the battlefield of Marathon to Athens. | Big
    city marathons such as Boston, London and Berlin attract tens of thousands of runners, and
    elite times are just over two hours.
Ice hockey | Ice hockey is played on skates by two teams who shoot a rubber puck into the opposing
    net with sticks. | Teams have six players on the ice, games have three periods of twenty
    minutes, and body checking is allowed. | It is hugely popular in Canada, the United States,
    Russia, Sweden and Finland, and the NHL awards the Stanley Cup.
Volleyball | Volleyball is played by two teams of six separated by a high net. | A team may touch
    the ball three times before returning it, usually with a bump, a set and a spike. | Beach
    volleyball is played in pairs on sand, and both versions are Olympic sports.
Surfing | Surfing is riding breaking ocean waves while standing on a board. | Surfers paddle out,
    duck dive under the breaking waves and pop up onto the board as a wave lifts them. | Surfing
    comes from ancient Hawaii, and famous breaks include Pipeline, Jaws and Nazaré, where big wave
    surfers ride giants.
Boxing | Boxing is a combat sport in which two fighters punch each other wearing padded gloves
    inside a roped ring. | Bouts are divided into rounds of three minutes, and a fighter wins by
    knockout or on the judges' scorecards. | Weight classes run from flyweight to heavyweight, and
    legends include Muhammad Ali and Joe Louis.

= Cities | Landmarks | Life in the city
Paris | Paris is the capital of France, on the river Seine. | The Eiffel Tower, the Louvre with the
    Mona Lisa, Notre-Dame cathedral and the Arc de Triomphe draw millions of visitors. | Parisians
    enjoy café terraces, boulangeries and the Métro, and the city is a world centre of fashion and
    art.
Tokyo | Tokyo is the capital of Japan and one of the largest metropolitan areas on Earth. |
    Landmarks include the Senso-ji temple in Asakusa, the Shibuya crossing, Tokyo Tower and the
    Skytree. | Commuters rely on punctual trains, and neighbourhoods range from neon-lit Shinjuku
    to quiet shrines and parks.
Venice | Venice is a city in northeastern Italy built on more than a hundred small islands in a
    lagoon. | St Mark's Basilica, the Doge's Palace, the Rialto Bridge and the Grand Canal are its
    best-known sights. | There are no cars: people get around on foot, by vaporetto water bus and
    by gondola, and the city suffers from acqua alta flooding.
Cairo | Cairo is the capital of Egypt, on the Nile near the head of the delta. | The pyramids of
    Giza and the Sphinx stand at the city's edge, and the Egyptian Museum holds Tutankhamun's
    treasures. | The medieval quarter of Islamic Cairo is full of mosques, minarets and the Khan
    el-Khalili bazaar.
Rio de Janeiro | Rio de Janeiro is a coastal city in southeastern Brazil. | The Christ the Redeemer
    statue looks down from Corcovado, and Sugarloaf Mountain rises above Guanabara Bay. | Cariocas
    spend weekends on Copacabana and Ipanema beaches, and the yearly Carnival fills the Sambadrome
    with samba schools.
New York City | New York City is the most populous city in the United States. | Landmarks include
    the Statue of Liberty, the Empire State Building, Central Park and Times Square. | Its five
    boroughs include Manhattan and Brooklyn; Wall Street, Broadway theatres and the subway define
    daily life.
Istanbul | Istanbul is the largest city of Turkey, straddling the Bosphorus between Europe and
    Asia. | The Hagia Sophia, the Blue Mosque, Topkapi Palace and the Grand Bazaar recall its past
    as Byzantium and Constantinople. | Ferries cross the strait all day, and tea houses and simit
    sellers line the streets.
Sydney | Sydney is the largest city in Australia, on the southeast coast. | The Opera House with
    its sail-shaped shells and the Harbour Bridge dominate the harbour. | Locals surf at Bondi
    Beach, ride ferries to Manly and celebrate New Year with fireworks over the water.
Reykjavik | Reykjavik is the capital of Iceland and the northernmost capital of a sovereign state.
    | The Hallgrímskirkja church and the Harpa concert hall are landmarks, and the Blue Lagoon spa
    is nearby. | Geothermal water heats homes and swimming pools, summer nights stay bright, and
    winter brings the northern lights.
Moscow | Moscow is the capital and largest city of Russia, on the Moskva River. | The Kremlin, Red
    Square and the onion domes of St Basil's Cathedral are at its heart. | The Moscow Metro is
    famous for its ornate stations, and winters are long and snowy.
Mumbai | Mumbai is India's financial capital on the Arabian Sea, formerly known as Bombay. | The
    Gateway of India, Chhatrapati Shivaji Terminus and Marine Drive are famous sights. | It is home
    to Bollywood, crowded local trains, dabbawalas who deliver lunch boxes and large informal
    settlements such as Dharavi.
Rome | Rome is the capital of Italy and was the centre of the Roman Empire. | The Colosseum, the
    Pantheon, the Forum and the Trevi Fountain stand among baroque churches, and Vatican City lies
    within it. | Romans take espresso standing at the bar, and the city is built on seven hills
    beside the Tiber.

= Tools | Design | Use
Hammer | A hammer is a hand tool with a heavy head on a handle, used to strike nails and other
    objects. | A claw hammer has a forked back for pulling nails, while sledgehammers and ball-peen
    hammers serve heavier or metalwork tasks. | Hold the handle near its end and let the weight of
    the head do the work.
Screwdriver | A screwdriver turns screws with a shaped tip that fits the screw head. | Common tips
    are flat-blade, Phillips, Pozidriv and Torx, and handles are plastic or wood. | Cordless
    drivers and ratcheting screwdrivers speed up repetitive work; pick the tip size that fits
    snugly to avoid stripping the head.
Saw | A saw is a cutting tool with a toothed blade, used mostly on wood but also on metal and
    stone. | Handsaws, hacksaws, coping saws, circular saws and chainsaws differ in blade, tooth
    pitch and power. | Rip saws cut along the grain and crosscut saws across it; the set of the
    teeth makes a kerf wider than the blade.
Wrench | A wrench, or spanner, grips and turns nuts and bolts. | Open-ended, ring, adjustable and
    socket wrenches fit hexagonal fasteners of different sizes, and a torque wrench measures how
    tight they are. | Pull rather than push on the handle, and use the correct size to avoid
    rounding the corners of the nut.
Drill | A power drill rotates a bit to bore holes in wood, metal, masonry or plastic. | Corded and
    cordless drills have a chuck that holds twist bits, spade bits or hole saws, and a hammer
    action for concrete. | Mark the spot with a centre punch, start slowly and keep the bit
    perpendicular to the surface.
Chisel | A chisel is a tool with a sharp bevelled steel blade for cutting or paring wood, stone or
    metal. | Bench chisels, mortise chisels and cold chisels have handles or striking ends for a
    mallet. | Woodworkers pare joints by hand and chop mortises with a mallet, honing the edge on
    whetstones.
Spirit level | A spirit level shows whether a surface is horizontal or vertical. | A sealed vial of
    coloured alcohol holds an air bubble that centres between two lines when the level is true. |
    Builders check shelves, tiles, door frames and walls with it, and laser levels project a line
    across a room.
Pliers | Pliers are hand tools for gripping, bending and cutting wire. | Two metal jaws pivot like
    scissors; needle-nose, slip-joint, locking and lineman's pliers suit different jobs. |
    Electricians strip and cut cable with them, and jewellers use fine round-nose pliers to form
    loops.
Tape measure | A tape measure is a flexible ruler wound inside a case that retracts with a spring.
    | The steel blade is curved for stiffness and marked in millimetres or inches, with a hooked
    end that slides to offset its own thickness. | Lock the blade, hook it over an edge and read at
    the mark; the old rule is measure twice, cut once.
Soldering iron | A soldering iron heats a metal tip to melt solder and join electronic components
    or wires. | Temperature-controlled stations keep the tip around 350 degrees Celsius, and solder
    is a tin alloy with a flux core. | Heat the pad and lead together, feed in solder until it
    flows into a shiny cone, and clean the tip on a damp sponge.
Wheelbarrow | A wheelbarrow is a small hand-propelled cart with one wheel at the front and two
    handles at the back. | Its tray is made of steel or plastic, and it works as a second-class
    lever with the wheel as fulcrum. | Gardeners and builders use it to move soil, gravel and
    cement; load it over the wheel so the handles feel lighter.
Ladder | A ladder is a set of rungs between two rails for climbing up or down. | Stepladders stand
    on their own, extension ladders slide out to reach roofs, and materials include aluminium,
    fibreglass and wood. | Set the ladder at about a one-in-four angle, keep three points of
    contact and never stand on the top rung.

= Hobbies | Getting started | Community
Birdwatching | Birdwatching is observing wild birds in their natural habitats. | All you need is a
    pair of binoculars, a field guide and a notebook, and early morning is the best time. | Birders
    keep life lists, join bird counts and share sightings on apps such as eBird.
Stamp collecting | Stamp collecting, or philately, is gathering and studying postage stamps. |
    Beginners use tweezers, a magnifier and an album with hinges or mounts to sort stamps by
    country. | Collectors trade at fairs and clubs, and rarities such as the Penny Black and the
    British Guiana one-cent magenta fetch fortunes.
Geocaching | Geocaching is an outdoor treasure hunt that uses GPS coordinates to find hidden
    containers called caches. | Players create a free account, download coordinates and navigate
    with a phone or GPS receiver. | Finders sign the logbook, may swap trinkets and log the find
    online; millions of caches are hidden worldwide.
Amateur radio | Amateur radio, or ham radio, is the non-commercial use of radio frequencies to talk
    with other operators. | Operators need to pass a licence exam and own a transceiver and
    antenna; many start on local VHF repeaters. | Hams make contacts around the world on shortwave
    bands, use Morse code and help with emergency communications.
Model railways | Model railways are miniature trains running on layouts built to scale. | Popular
    scales are OO, HO and N; a starter set includes an oval of track, a locomotive and a power
    controller. | Modellers build scenery, weather their rolling stock and run trains at
    exhibitions, often using digital command control.
Angling | Angling is fishing with a rod, line and hook. | A beginner needs a rod and reel, line,
    hooks, weights and bait such as worms or maggots, plus a fishing licence. | Anglers fish for
    carp, trout and pike in lakes and rivers, and many practise catch and release.
Calligraphy | Calligraphy is the art of beautiful handwriting. | Start with a broad-edged pen or
    brush, ink and smooth paper, and practise the basic strokes. | Western scripts include italic
    and copperplate, while Chinese, Japanese and Arabic calligraphy have their own traditions.
Metal detecting | Metal detecting is searching for buried coins, jewellery and relics with an
    electronic detector. | The detector's search coil sends an electromagnetic field into the
    ground and beeps when metal disturbs it. | Detectorists need the landowner's permission, dig
    neat holes and report significant finds such as Viking hoards.
Kite flying | Kite flying is launching a tethered craft of fabric on a light frame into the wind. |
    A steady wind of ten to twenty-five kilometres per hour and an open field away from power lines
    are ideal. | Festivals from Gujarat to Weifang fill the sky, and stunt kites with two or four
    lines perform tricks.
Scuba diving | Scuba diving is swimming underwater while breathing from a tank of compressed air. |
    Beginners take a certification course and learn to use a regulator, buoyancy control device,
    mask and fins. | Divers explore coral reefs and wrecks and must ascend slowly to avoid
    decompression sickness.
Juggling | Juggling is keeping several objects in the air by throwing and catching them in a
    pattern. | Start with three beanbags and the cascade pattern, throwing each ball in an arc from
    hand to hand. | Jugglers move on to clubs, rings and more objects, and meet at conventions and
    clubs.
Genealogy | Genealogy is tracing family history and lineage. | Start with living relatives, then
    search birth, marriage and death records, censuses and parish registers. | DNA tests connect
    distant cousins, and family historians share trees online and in societies.

= Professions | Duties | Training
Firefighter | A firefighter puts out fires and rescues people from burning buildings, crashes and
    other emergencies. | Crews respond from a fire station with engines, hoses and breathing
    apparatus, and also inspect buildings and teach fire safety. | Recruits pass fitness tests and
    train at an academy in hose handling, ladder work, first aid and hazardous materials.
Dentist | A dentist diagnoses and treats problems of the teeth, gums and mouth. | Dentists fill
    cavities, extract teeth, fit crowns, perform root canal treatment and take X-rays. | Dental
    school follows a science degree, and specialists such as orthodontists train further.
Airline pilot | An airline pilot flies commercial passenger and cargo aircraft. | The captain and
    first officer plan the flight, check the weather, perform pre-flight checks and talk to air
    traffic control. | Pilots earn a commercial licence and then an airline transport pilot licence
    after hundreds of flight hours, and train regularly in simulators.
Librarian | A librarian manages collections of books and information and helps people find what
    they need. | Librarians catalogue materials, answer reference questions, run reading programmes
    and manage digital resources. | Most hold a master's degree in library and information science.
Architect | An architect designs buildings and oversees their construction. | Architects meet
    clients, draw plans and elevations, make models and coordinate engineers and builders. |
    Training takes a university degree, years of supervised practice and a licensing exam.
Electrician | An electrician installs and repairs electrical wiring, outlets, lighting and circuit
    breakers. | Electricians read blueprints, pull cable through walls and test circuits to meet
    the electrical code. | Most learn through an apprenticeship of several years before becoming
    licensed.
Plumber | A plumber installs and repairs pipes, taps, toilets, water heaters and drains. | Plumbers
    clear blockages, fix leaks, fit bathrooms and connect gas appliances. | Apprentices learn pipe
    cutting, soldering and local codes on the job and at trade school.
Veterinarian | A veterinarian is a doctor for animals, from pets to livestock and zoo animals. |
    Vets examine and vaccinate animals, perform surgery, set fractures and advise owners on diet. |
    Veterinary school takes about five years, after which graduates can specialise.
Nurse | A nurse cares for patients in hospitals, clinics and homes. | Nurses give medication,
    monitor vital signs, dress wounds and support patients and their families. | Registered nurses
    study nursing at university and pass a licensing examination.
Accountant | An accountant prepares and examines financial records and tax returns. | Accountants
    keep the books, produce balance sheets and profit and loss statements, and audit companies. |
    Chartered or certified public accountants pass professional exams after a degree.
Journalist | A journalist gathers, writes and reports news for newspapers, radio, television and
    websites. | Reporters interview sources, check facts, attend press conferences and meet
    deadlines. | Many study journalism, and codes of ethics require accuracy and the protection of
    confidential sources.
Translator | A translator renders written text from one language into another. | Translators work
    on contracts, manuals, books and websites, often with specialised glossaries and CAT tools. |
    Interpreters handle spoken language, and most translators hold degrees in languages or
    translation.

= Instruments | Construction | Playing
Violin | The violin is the smallest and highest-pitched member of the string family. | It has four
    strings tuned G, D, A and E, a spruce top, a maple back and an f-hole on each side. | The
    player holds it under the chin and draws a horsehair bow across the strings.
Piano | The piano is a keyboard instrument with 88 keys. | Pressing a key makes a felt hammer
    strike steel strings, and pedals sustain or soften the sound. | Bartolomeo Cristofori built the
    first one around 1700, and pianists play melody and harmony at once.
Trumpet | The trumpet is a brass instrument with a bright, powerful sound. | It has a cup
    mouthpiece, a coiled tube and three piston valves that change the pitch. | Players buzz their
    lips into the mouthpiece, and the trumpet leads in jazz, orchestras and military fanfares.
Drums | A drum kit is a set of drums and cymbals played by one person with sticks and pedals. | It
    includes a bass drum, a snare, tom-toms, a hi-hat and crash and ride cymbals. | The drummer
    keeps time for rock, jazz and pop bands.
Guitar | The guitar is a fretted string instrument, usually with six strings. | Acoustic guitars
    have a hollow body with a sound hole, while electric guitars use magnetic pickups and an
    amplifier. | Players strum chords or pick melodies, and the guitar is central to flamenco,
    blues and rock.
Flute | The flute is a woodwind instrument that has no reed. | The modern concert flute is a metal
    tube with keys and about a three-octave range. | The player blows across an embouchure hole,
    and the piccolo is its smaller, higher cousin.
Harp | The harp is a string instrument with strings stretched across a triangular frame. | The
    concert harp has 47 strings and seven pedals that change key. | Harpists pluck the strings with
    their fingertips, and the Irish harp is a national symbol.
Bagpipes | Bagpipes are wind instruments with a bag that supplies air to reed pipes. | The Great
    Highland bagpipe has a chanter for the melody and three drones. | The piper blows into the bag
    and squeezes it under the arm, and pipe bands play at Scottish gatherings and funerals.
Accordion | The accordion is a portable free-reed instrument with bellows. | It has a piano-style
    keyboard or buttons for the melody and bass buttons for chords. | The player pushes and pulls
    the bellows, and it is heard in tango, polka, zydeco and French musette.
Saxophone | The saxophone is a single-reed woodwind instrument made of brass. | Adolphe Sax
    invented it in the 1840s, and the family includes soprano, alto, tenor and baritone. | It
    became the voice of jazz in the hands of Charlie Parker and John Coltrane.
Didgeridoo | The didgeridoo is a long wooden wind instrument of the Aboriginal peoples of northern
    Australia. | It is made from a eucalyptus trunk hollowed out by termites. | Players use
    circular breathing to sustain a deep, continuous drone.
Harmonica | The harmonica is a small free-reed instrument held in the hands. | A diatonic harmonica
    has ten holes, with brass reeds mounted in a comb. | Players blow and draw air and bend notes,
    and it is a staple of blues and folk.

= Plants | Description | Growing
Oak | Oaks are trees of the genus Quercus, with lobed leaves and nuts called acorns. | They are
    long-lived and hard-wooded and support hundreds of insect species; an English oak can live for
    a thousand years. | Acorns sown in autumn sprout the next spring, and oak timber was used for
    ships, barrels and beams.
Cactus | Cacti are succulent plants of the Americas adapted to dry deserts. | They store water in
    fleshy stems, their leaves are reduced to spines, and the saguaro grows taller than a house. |
    Grow them in gritty, free-draining soil in full sun and water them sparingly.
Sunflower | The sunflower is a tall annual with a large yellow flower head. | Young heads track the
    sun from east to west, and each head is made of many small florets that become seeds. | Sow the
    seeds after the last frost; the seeds are pressed for oil and roasted as a snack.
Bamboo | Bamboo is a giant grass with hollow, jointed woody stems called culms. | Some species grow
    nearly a metre a day, and giant pandas eat it almost exclusively. | Running bamboo spreads by
    rhizomes, so gardeners plant it within a barrier; its canes are used for scaffolding and
    furniture.
Rose | Roses are woody shrubs of the genus Rosa with prickly stems and fragrant flowers. | There
    are hybrid teas, climbers, ramblers and wild dog roses, and their hips are rich in vitamin C. |
    Prune them in late winter, feed them in spring and deadhead spent blooms.
Venus flytrap | The Venus flytrap is a carnivorous plant native to the bogs of North and South
    Carolina. | Each leaf ends in a hinged trap lined with trigger hairs, and touching two hairs
    snaps it shut. | Grow it in peat and sand, water it with rainwater and give it a cool winter
    dormancy.
Fern | Ferns are vascular plants that reproduce by spores instead of seeds. | Fronds unroll from
    coiled fiddleheads, and spores form in clusters called sori under the fronds. | They like shade
    and moist soil, and tree ferns grow tall in New Zealand.
Moss | Mosses are small non-vascular plants that form soft green carpets. | They have no true
    roots, only thread-like rhizoids, and absorb water through their leaves. | Sphagnum builds peat
    bogs, and mosses thrive in shade and damp.
Tulip | Tulips are spring-flowering bulbs with cup-shaped flowers. | They are native to Central
    Asia and Turkey and come in almost every colour. | During tulip mania in the Dutch Golden Age a
    single bulb sold for the price of a house; plant bulbs in autumn.
Baobab | Baobabs are massive trees of Africa, Madagascar and Australia with swollen trunks. | The
    trunk stores water, and the bare branches look like roots, earning it the name upside-down
    tree. | Baobabs can live for more than a thousand years, and their fruit pulp is rich in
    vitamin C.
Orchid | Orchids are one of the largest families of flowering plants. | Many are epiphytes with
    aerial roots, and vanilla comes from an orchid. | Moth orchids grow as houseplants in bright
    indirect light and a bark mix.
Lavender | Lavender is a fragrant shrub of the Mediterranean with purple flower spikes. | Its
    essential oil scents perfume and soap, and its flowers attract bees. | It grows in poor,
    well-drained soil in full sun, as in the fields of Provence.

= Vehicles | How it works | History
Bicycle | A bicycle is a two-wheeled vehicle powered by pedals. | A chain drives the rear wheel
    through gears, and rim or disc brakes stop it. | The draisine of 1817 had no pedals, and the
    safety bicycle of the 1880s set the modern shape.
Helicopter | A helicopter is a rotorcraft that can take off vertically, hover and fly in any
    direction. | The main rotor provides lift and thrust, and a tail rotor counters the torque. |
    Igor Sikorsky flew the first practical single-rotor helicopter in 1939.
Submarine | A submarine is a watercraft that operates underwater. | Ballast tanks are flooded to
    dive and blown with compressed air to surface, and sonar finds targets. | Nuclear submarines
    can stay submerged for months, and periscopes let the crew look above the surface.
Hot air balloon | A hot air balloon is a lighter-than-air craft with a fabric envelope and a
    basket. | A propane burner heats the air in the envelope so that it rises, and the pilot vents
    hot air to descend. | The Montgolfier brothers launched the first crewed flight in Paris in
    1783.
Steam locomotive | A steam locomotive burns coal in a firebox to boil water in its boiler. | Steam
    drives pistons that turn the driving wheels through connecting rods. | George Stephenson's
    locomotives ran on the first public railways, and the Mallard set a speed record in 1938.
Sailboat | A sailboat is a boat propelled by wind on its sails. | A keel or centreboard stops it
    drifting sideways, and a rudder steers it. | Sailors tack to make progress upwind, and racing
    yachts compete in the America's Cup.
Tractor | A tractor is a farm vehicle that pulls ploughs, trailers and other machinery. | It has
    large rear tyres for grip and a power take-off shaft that drives implements. | Harry Ferguson's
    three-point hitch made tractors safer and more useful in the 1920s.
Motorcycle | A motorcycle is a two-wheeled motor vehicle. | The throttle is on the right handlebar,
    and the engine drives the rear wheel by chain, belt or shaft. | Gottlieb Daimler built the
    first one in 1885, and Harley-Davidson became an icon.
Tram | A tram, or streetcar, runs on rails laid in city streets. | It draws electric power from an
    overhead wire through a pantograph. | Horse-drawn trams gave way to electric ones in the 1890s,
    and many cities are now building new tram lines.
Hovercraft | A hovercraft rides on a cushion of air trapped under a flexible skirt. | Lift fans
    blow air beneath it, and propellers push it over land, water or ice. | Christopher Cockerell
    invented it in 1955, and hovercraft crossed the English Channel until 2000.
Rocket | A rocket is a vehicle driven by a rocket engine that expels exhaust. | It carries both
    fuel and oxidiser and works by Newton's third law. | The Saturn V launched the Apollo missions,
    and SpaceX lands reusable boosters.
Snowmobile | A snowmobile is a motorised vehicle for travel on snow. | A rubber track at the back
    drives it, and skis at the front steer it. | Joseph-Armand Bombardier developed early models in
    Quebec.

= Weather | Causes | Effects
Tornadoes | A tornado is a violently rotating column of air reaching from a thunderstorm to the
    ground. | Most form in supercells where warm moist air meets cold dry air and wind shear sets
    the air spinning. | Winds above three hundred kilometres per hour can flatten houses, and
    Tornado Alley in the United States sees the most.
Hurricanes | Hurricanes are tropical cyclones of the Atlantic and eastern Pacific. | They draw
    energy from warm ocean water and spin around a calm eye. | Storm surge, torrential rain and
    wind cause floods and destruction, and they are rated on the Saffir-Simpson scale.
Rainbows | A rainbow is an arc of spectral colours in the sky. | Sunlight is refracted, reflected
    and dispersed inside raindrops, splitting white light into red through violet. | A double
    rainbow has a fainter secondary arc with reversed colours, and you see one with the sun behind
    you.
Lightning | Lightning is a giant electrical discharge during thunderstorms. | Ice particles
    colliding in the cloud separate charge until it sparks between cloud and ground. | The bolt
    heats air to about thirty thousand degrees, causing thunder; lightning rods protect buildings.
Fog | Fog is a cloud at ground level made of tiny water droplets. | Radiation fog forms on clear,
    calm nights as the ground cools, and advection fog when moist air moves over cold water. | It
    reduces visibility, delaying flights and causing road accidents; San Francisco is known for it.
Hail | Hail is precipitation of balls or lumps of ice. | Strong updrafts in thunderstorms carry
    droplets up where they freeze and grow in layers. | Hailstones can dent cars, break windows and
    destroy crops in minutes.
Blizzards | A blizzard is a severe snowstorm with strong winds and low visibility. | Cold arctic
    air and a strong pressure gradient drive the wind that blows the snow. | Whiteout conditions
    strand travellers, and drifts bury roads.
Monsoon | A monsoon is a seasonal reversal of the prevailing wind that brings a rainy season. | In
    summer, land heats faster than the ocean, drawing moist air inland over South Asia. | The rains
    water the crops of hundreds of millions of farmers but can also bring floods and landslides.
Drought | A drought is a long period with far less rainfall than normal. | It often follows
    persistent high pressure or shifts such as El Niño. | Crops fail, rivers and reservoirs dry up,
    and the Dust Bowl of the 1930s drove families from the Great Plains.
Aurora | An aurora is a display of coloured light in the sky near the polar regions. | Charged
    particles from the solar wind strike oxygen and nitrogen in the upper atmosphere, which glow. |
    Green is the most common colour, and the northern lights are best seen in winter from Norway,
    Iceland or Canada.
Heat waves | A heat wave is a period of unusually hot weather lasting several days. | A dome of
    high pressure traps hot air and clear skies let the sun bake the ground. | Heatstroke endangers
    the elderly, and cities become heat islands at night.
Frost | Frost is a layer of ice crystals that forms on surfaces below freezing. | On clear, still
    nights the ground radiates heat away, and water vapour deposits as ice. | Gardeners cover
    tender plants, and hoar frost forms feathery crystals on branches.

= Games | Rules | Strategy
Chess | Chess is a two-player board game on a board of sixty-four squares. | Each side has a king,
    a queen, two rooks, two bishops, two knights and eight pawns, and the goal is checkmate. |
    Players control the centre, develop their pieces early and castle to protect the king.
Poker | Poker is a family of card games in which players bet on the strength of their hands. | In
    Texas hold'em each player gets two hole cards and shares five community cards. | Good players
    read opponents, bluff and calculate pot odds.
Sudoku | Sudoku is a logic puzzle on a nine-by-nine grid. | Each row, column and three-by-three box
    must contain the digits one to nine exactly once. | Solvers scan for candidates, use pencil
    marks and look for naked pairs.
Crossword puzzles | A crossword puzzle is a grid of white and black squares filled with words from
    clues. | Words run across and down, and each clue hints at the answer. | Cryptic crosswords use
    wordplay such as anagrams, and the New York Times puzzle gets harder through the week.
Go | Go is an ancient board game from China played with black and white stones on a
    nineteen-by-nineteen grid. | Players take turns placing stones to surround territory, and
    captured stones are removed. | Strategy balances territory and influence; AlphaGo beat Lee
    Sedol in 2016.
Mahjong | Mahjong is a Chinese tile game for four players. | A set has 144 tiles in suits of
    bamboo, characters and circles, plus winds, dragons and flowers. | Players draw and discard to
    form sets and pairs, and the winner calls mahjong.
Backgammon | Backgammon is a two-player board game of dice and checkers. | Each player moves
    fifteen checkers around twenty-four points, aiming to bear them all off. | The doubling cube
    raises stakes, and players build primes to block the opponent.
Dominoes | Dominoes are rectangular tiles marked with spots, each half showing from zero to six
    pips. | Players match tiles end to end, and the first to play all their tiles wins. | Counting
    the tiles played helps you guess what opponents hold.
Scrabble | Scrabble is a word game in which players place lettered tiles on a fifteen-by-fifteen
    board. | Each letter has a point value, and premium squares double or triple letters or words.
    | Using all seven tiles earns a bonus, and players memorise short words like qi and za.
Tetris | Tetris is a video game in which falling shapes called tetrominoes must be fitted into
    rows. | A completed row disappears, and the game ends when the stack reaches the top. | Alexey
    Pajitnov created it in 1984; players keep the well flat and save a slot for the long I-piece.
Rubik's Cube | The Rubik's Cube is a three-dimensional puzzle whose six faces must each return to
    one colour. | Ernő Rubik invented it in 1974; each face turns, and there are about 43
    quintillion positions. | Speedcubers use methods such as CFOP and solve it in seconds.
Bingo | Bingo is a game of chance in which players mark numbers on cards as a caller draws them. |
    The first to complete a line or a full house shouts bingo. | It is popular in halls, churches
    and retirement homes.

= Materials | Properties | Uses
Steel | Steel is an alloy of iron with a small amount of carbon. | It is strong and tough, and
    adding chromium makes stainless steel resistant to rust. | Steel frames skyscrapers, bridges,
    cars and ships, and it is recycled more than any other material.
Concrete | Concrete is a mix of cement, water, sand and gravel that hardens as the cement cures. |
    It is very strong in compression but weak in tension, so it is reinforced with steel bars. |
    The Romans built the Pantheon dome from it, and today it forms foundations, dams and roads.
Rubber | Natural rubber comes from the latex of the rubber tree. | It is elastic and waterproof,
    and vulcanisation with sulphur makes it durable. | Charles Goodyear's process enabled tyres,
    hoses, seals and gloves.
Paper | Paper is a thin sheet of cellulose fibres, mostly from wood pulp. | It absorbs ink and can
    be sized, coated or recycled. | Cai Lun is credited with inventing it in China around 105 AD,
    and it is used for books, packaging and money.
Plastic | Plastics are synthetic polymers that can be moulded. | Polyethylene, PVC and polystyrene
    are light, cheap and durable but persist for centuries. | Plastic is used for packaging, pipes
    and toys, and microplastics now pollute the oceans.
Marble | Marble is a metamorphic rock formed from limestone under heat and pressure. | It is mostly
    calcite, takes a high polish and is soft enough to carve. | Michelangelo carved David from
    Carrara marble, and the Taj Mahal is clad in it.
Titanium | Titanium is a light, strong metal that resists corrosion. | It is as strong as steel but
    about forty-five percent lighter, and it is biocompatible. | It is used in aircraft, jet
    engines, hip implants and racing bicycles.
Cork | Cork is the bark of the cork oak, harvested every nine years without felling the tree. | It
    is light, buoyant, elastic and an insulator. | Portugal produces half the world's cork for
    bottle stoppers, floors and notice boards.
Graphene | Graphene is a single layer of carbon atoms arranged in a hexagonal lattice. | It is the
    thinnest material known, extremely strong and an excellent conductor. | Andre Geim and
    Konstantin Novoselov isolated it with sticky tape and won the Nobel Prize in 2010.
Asbestos | Asbestos is a group of fibrous silicate minerals. | It resists heat and fire and was
    cheap. | It was used in insulation and roofing, but inhaled fibres cause mesothelioma and it is
    now banned in many countries.
Copper | Copper is a reddish metal and an excellent conductor of electricity and heat. | It is soft
    and ductile and forms a green patina when exposed to weather. | It is used for wiring, pipes
    and coins, and it is alloyed with tin to make bronze.
Amber | Amber is fossilised tree resin millions of years old. | It is golden, light and warm to the
    touch and sometimes holds trapped insects. | It is prized for jewellery, and the Baltic coast
    is its main source.

= Anatomy | Structure | Function
Heart | The heart is a muscular organ that pumps blood through the body. | It has four chambers,
    two atria and two ventricles, with valves that keep blood flowing one way. | It beats about
    seventy times a minute, sending blood to the lungs and then around the body.
Lungs | The lungs are two spongy organs in the chest. | Air flows through the trachea into bronchi
    and millions of tiny alveoli. | Oxygen passes into the blood and carbon dioxide out, and the
    diaphragm drives each breath.
Liver | The liver is the largest internal organ, on the right side of the abdomen. | It is divided
    into lobes and can regenerate after damage. | It filters toxins, makes bile for digestion and
    stores glycogen.
Kidneys | The kidneys are two bean-shaped organs in the lower back. | Each holds about a million
    nephrons. | They filter waste from the blood into urine and balance salts and water; dialysis
    can replace them.
Skin | The skin is the body's largest organ. | It has three layers, the epidermis, dermis and
    subcutaneous fat. | It protects against germs, regulates temperature with sweat and senses
    touch.
Eyes | The eyes are the organs of sight. | Light passes through the cornea and lens onto the
    retina, whose rods and cones detect it. | The optic nerve carries signals to the brain; glasses
    correct short sight.
Ears | The ears are the organs of hearing and balance. | The outer ear funnels sound to the
    eardrum, and three tiny bones pass vibrations to the cochlea. | The semicircular canals sense
    the head's motion.
Stomach | The stomach is a muscular J-shaped organ between the oesophagus and small intestine. |
    Its lining secretes hydrochloric acid and pepsin. | It churns food into chyme and holds a meal
    for a few hours.
Skeleton | The adult human skeleton has 206 bones. | The skull, spine, ribs and limb bones are
    joined by ligaments at joints. | It supports the body, protects organs, and bone marrow makes
    blood cells.
Pancreas | The pancreas is a gland behind the stomach. | Islets of Langerhans make insulin and
    glucagon. | It also releases digestive enzymes into the duodenum; in diabetes insulin is
    lacking.
Tongue | The tongue is a muscular organ in the mouth. | Its surface is covered with papillae
    holding taste buds. | It helps with chewing, swallowing and speech.
Appendix | The appendix is a small finger-shaped pouch attached to the large intestine. | It may
    store helpful gut bacteria. | Appendicitis causes pain in the lower right abdomen and often
    needs surgery.

= Dances | Origins | Style
Ballet | Ballet is a theatrical dance form that began in the courts of Renaissance Italy and
    France. | Dancers train from childhood and perform on pointe in satin shoes, and moves have
    French names. | Swan Lake and The Nutcracker by Tchaikovsky are classics.
Tango | Tango is a partner dance from Buenos Aires and Montevideo of the 1880s. | Partners hold a
    close embrace and walk with sharp, dramatic moves. | It is danced to bandoneón music in
    milongas.
Salsa | Salsa is a Latin dance from Cuba and Puerto Rico, shaped in New York in the 1970s. |
    Dancers step quick-quick-slow with hip motion and spins. | It is danced in clubs to son, mambo
    and brass-heavy bands.
Flamenco | Flamenco is an art form of Andalusia in southern Spain, with Romani roots. | It combines
    cante singing, toque guitar and baile dance. | Dancers stamp heels in zapateado and clap
    palmas.
Breakdancing | Breakdancing, or breaking, began in the Bronx in the 1970s as part of hip hop
    culture. | B-boys and b-girls perform toprock, footwork, freezes and power moves like
    windmills. | Battles are judged, and breaking debuted at the Paris 2024 Olympics.
Waltz | The waltz is a ballroom dance in three-four time from Austria and Bavaria. | Couples turn
    in a closed hold, rising and falling. | Johann Strauss's Blue Danube is the best-known Viennese
    waltz.
Tap dance | Tap dance uses shoes with metal plates to beat rhythms on the floor. | It grew from
    African American and Irish traditions in the United States. | Fred Astaire, Gene Kelly and the
    Nicholas Brothers made it famous in film.
Irish dance | Irish dance is a traditional dance form of Ireland. | Dancers keep the upper body
    still while legs move fast, in soft shoes or hard shoes. | Riverdance brought it to stages
    around the world in 1994.
Belly dance | Belly dance is a Middle Eastern dance of torso articulation. | Dancers isolate hips
    and abdomen in shimmies and undulations. | It is performed in Egypt and Turkey with finger
    cymbals and veils.
Polka | The polka is a lively Central European dance in two-four time from Bohemia. | Couples hop
    and turn quickly. | It is danced at folk festivals and weddings with accordions and brass
    bands.
Hula | Hula is the dance of Hawaii, telling stories through movement. | Hula kahiko is danced to
    chants and drums, and hula auana to ukulele and guitar. | Hand gestures depict the ocean,
    plants and legends.
Capoeira | Capoeira is a Brazilian martial art that blends dance, acrobatics and music. | Enslaved
    Africans developed it in Brazil. | Players form a roda and play to the berimbau with kicks,
    sweeps and cartwheels.

= Space | Facts | Exploration
Moon | The Moon is Earth's only natural satellite. | It has no air, and its surface is covered in
    craters and dark basalt plains called maria. | Neil Armstrong walked on it in 1969 during
    Apollo 11.
Mars | Mars is the fourth planet from the Sun, known as the red planet. | Its surface is rusty iron
    oxide dust, and Olympus Mons is the tallest volcano in the solar system. | Rovers such as
    Curiosity and Perseverance search for signs of ancient life.
Jupiter | Jupiter is the largest planet, a gas giant. | The Great Red Spot is a storm larger than
    Earth, and it has dozens of moons. | Galileo discovered four moons in 1610, and the Juno probe
    studies it.
Saturn | Saturn is the sixth planet, famous for its rings. | The rings are made of ice and rock,
    and Titan is its largest moon. | The Cassini mission orbited it for thirteen years.
Sun | The Sun is the star at the centre of the solar system. | It fuses hydrogen into helium in its
    core, and its surface is about 5,500 degrees Celsius. | Sunspots and flares follow an
    eleven-year cycle, and the Parker Solar Probe flies through its corona.
Comets | Comets are icy bodies that orbit the Sun. | When close to the Sun they grow a coma and
    tails of gas and dust. | Halley's Comet returns every 76 years, and the Rosetta mission landed
    on a comet.
Black holes | A black hole is a region where gravity is so strong nothing can escape. | It forms
    when a massive star collapses, and its boundary is the event horizon. | The Event Horizon
    Telescope imaged one in M87 in 2019.
Milky Way | The Milky Way is our home galaxy, a barred spiral. | It contains hundreds of billions
    of stars and a supermassive black hole at its centre. | From dark sites it appears as a band
    across the night sky.
Asteroids | Asteroids are rocky bodies orbiting the Sun. | Most lie in the belt between Mars and
    Jupiter, and Ceres is the largest. | An asteroid impact ended the dinosaurs, and NASA's DART
    mission deflected one in 2022.
Venus | Venus is the second planet from the Sun and the hottest. | A thick carbon dioxide
    atmosphere traps heat, and clouds of sulphuric acid cover it. | Soviet Venera landers survived
    on its surface for about an hour.
Pluto | Pluto is a dwarf planet in the Kuiper Belt. | It has a heart-shaped nitrogen ice plain, and
    Charon is its largest moon. | It was reclassified in 2006, and New Horizons flew past it in
    2015.
Neutron stars | A neutron star is the collapsed core of a massive star after a supernova. | It is
    so dense that a teaspoon weighs a billion tons. | Pulsars are spinning neutron stars that sweep
    beams of radio waves.
"""

QUERIES = """
Spiders | which creature spins silk to catch flies
Owls | predator that hunts rodents at night and can rotate its neck
Beavers | animal that gnaws through trunks to block streams
Camels | beast of burden for caravans crossing dunes
Octopuses | marine animal that shifts its hue to blend in and sprays dark liquid
Snails | sluggish critter hauling its spiral home
Bats | flyer that sleeps hanging from cavern ceilings during daylight
Sushi | uncooked salmon and tuna on little mounds of sticky starch
Kimchi | spicy sour preserved greens that accompany dinner in Seoul
Popcorn | maize treat that pops open in hot oil during films
Cheese | cheddar, brie and other ripened curds
Yogurt | tart probiotic cup with granola and berries
Pasta | long noodles and macaroni cooked until firm to the bite
Pottery | bowls and mugs formed from wet earth and baked in an oven
Knitting | creating a scarf or jumper from a ball of thread with long sticks
Origami | creasing a leaf into swans and frogs with no scissors
Blacksmithing | making horseshoes by pounding red-hot bars
Quilting | patchwork bedspread assembled from scraps of cloth
Geology | how mountains form and why continents drift
Paleontology | digging up prehistoric creatures turned to stone
Cryptography | scrambling messages so eavesdroppers can't understand them
Optics | why a straw looks bent in a glass of water
Genetics | inheritance of eye colour from parents
Microbiology | germs seen only with a magnifying lens
Tennis | serve and volley, deuce and advantage on clay
Fencing | duelling with blades while wearing a mesh mask
Surfing | catching swells on a longboard at the beach
Basketball | slam dunks and free throws by tall athletes
Rowing | sculling on a river with oarsmen and a cox
Marathon | twenty-six mile footrace
Venice | waterways instead of streets and a masked carnival
Cairo | ancient pharaohs' tombs next to a huge African metropolis
Moscow | Lenin's mausoleum and the former Soviet government seat
Sydney | biggest metropolis down under and its famous performing arts venue
Tokyo | Japanese megacity of sumo wrestlers and cherry blossoms
Rio de Janeiro | Jesus figure on a hilltop above a Brazilian metropolis
Hammer | what do I pound tacks with
Spirit level | is my shelf straight or crooked
Wrench | loosening threaded hardware on a car engine
Soldering iron | hot pen for fixing circuit boards
Tape measure | finding the length of a room in feet
Stamp collecting | saving the little sticky squares from envelopes
Geocaching | searching for secret boxes with satellite navigation
Amateur radio | chatting with faraway strangers using a transmitter in the attic
Birdwatching | spotting feathered wildlife through spyglasses
Genealogy | researching great-grandparents and ancestry
Scuba diving | visiting sunken ships beneath the sea wearing flippers
Plumber | who do I call when my sink is dripping
Veterinarian | who treats a sick dog or cat
Firefighter | rescuers who battle blazes and climb into smoke
Architect | professional who sketches blueprints for new houses
Dentist | who cleans my molars and checks for decay
Airline pilot | person in the cockpit of a jumbo jet
Piano | tickling the ivories at a grand in the concert hall
Bagpipes | the wailing sound of kilted musicians marching
Didgeridoo | buzzing outback pipe chewed through by insects
Accordion | squeezebox of Cajun bars
Trumpet | shiny horn of Louis Armstrong
Harmonica | pocket-sized mouth organ
Venus flytrap | which greenery devours bugs
Cactus | prickly arid-land dweller that survives months without rain
Sunflower | giant golden bloom that turns to face daylight
Bamboo | fastest sprouting grassy timber in Asian construction
Helicopter | aircraft with spinning blades overhead
Submarine | vessel that travels beneath the sea to hide from enemies
Hot air balloon | drifting over the countryside in wicker under a flame
Bicycle | riding a push bike to the office
Tornadoes | twister that destroys towns in Kansas
Rainbows | multicoloured band that appears after a shower
Lightning | sudden bright flash during a storm
Aurora | shimmering curtains dancing over the Arctic
Drought | parched land after years without a drop of water
Fog | thick mist that hides the highway
Chess | duel of grandmasters with openings like the Sicilian
Poker | wagering chips at a casino table with aces and flushes
Sudoku | filling in numbers so none repeats in any line
Tetris | arcade classic where bricks drop and lines vanish
Scrabble | forming vocabulary from a rack of wooden pieces to score
Rubber | stretchy bouncy stuff from tapped sap
Titanium | lightweight element for artificial joints and airplanes
Amber | orange gem with prehistoric bugs inside
Cork | what plugs a wine flask
Heart | ticker that thumps in your chest
Kidneys | producing pee and cleaning your bloodstream
Lungs | inhaling and exhaling in the ribcage
Ears | how we perceive noise and stay steady
Pancreas | what regulates sugar levels in diabetics
Ballet | tiptoe performance in tutus
Tango | passionate Argentine ballroom routine
Flamenco | stomping Spanish gypsy performance with castanets
Breakdancing | headspins on cardboard in the street
Waltz | graceful whirl in triple meter in Vienna
Tap dance | clacking heels like Gregory Hines
Mars | the ochre neighbour world NASA wants to send astronauts to
Saturn | the gas giant with the icy halo
Sun | the glowing ball that gives us daylight and warmth
Pluto | demoted ninth world beyond Neptune
Comets | dirty snowballs streaking past with glowing trails
"""

STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can cannot could did do does doing down during each few for
    from further had has have having he her here hers herself him himself his how i if in into is
    it its itself just me more most my myself no nor not of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself t s d ll m
    re ve don can't won't isn't
    """.split()
)


@dataclass(frozen=True)
class Page:
    title: str
    category: str
    filename: str  # the markdown file in the repository, e.g. "venus flytrap.md"
    content: str


@dataclass(frozen=True)
class Query:
    text: str
    title: str  # the right page's title
    filename: str


def _logical_lines(text: str) -> list[str]:
    lines: list[str] = []
    for raw in text.splitlines():
        if not raw.strip():
            continue
        if raw.startswith(" ") and lines:
            lines[-1] += " " + raw.strip()
        else:
            lines.append(raw.strip())
    return lines


def filename_for(title: str) -> str:
    return f"{title.lower()}.md"


def _render(title: str, fields: list[str], headings: list[str], position: int, siblings: list[str]):
    lead, first, second = fields
    parts = [f"# {title}", lead]
    if position % 5 == 4:
        parts += [first, second]
    else:
        parts += [f"## {headings[0]}", first, f"## {headings[1]}", second]
    if position % 3 == 2:
        parts += ["## See also", "\n".join(f"- [[{s}]]" for s in siblings)]
    return "\n\n".join(parts) + "\n"


def pages() -> list[Page]:
    categories: list[tuple[str, list[str], list[tuple[str, list[str]]]]] = []
    for line in _logical_lines(PAGES):
        fields = [f.strip() for f in line.split("|")]
        if line.startswith("="):
            categories.append((fields[0].lstrip("= "), fields[1:], []))
        else:
            categories[-1][2].append((fields[0], fields[1:]))
    result = []
    for category, headings, entries in categories:
        titles = [t for t, _ in entries]
        for i, (title, fields) in enumerate(entries):
            siblings = [titles[(i + 1) % len(titles)], titles[(i + 5) % len(titles)]]
            content = _render(title, fields, headings, i, siblings)
            result.append(Page(title, category, filename_for(title), content))
    return result


def _queries(text: str, filename: Callable[[str], str]) -> list[Query]:
    result = []
    for line in _logical_lines(text):
        title, query = (f.strip() for f in line.split("|", 1))
        result.append(Query(query, title, filename(title)))
    return result


def queries() -> list[Query]:
    """The paraphrased queries of the 216 topic pages."""
    return _queries(QUERIES, filename_for)


# -- the operations pages (search_corpus_ops.py) -------------------------------------------------
OPS_KINDS = ("keyword", "paraphrase", "mixed")


def ops_filename(title: str) -> str:
    """`ops/<title>.md`, the title's characters a file name cannot hold dropped."""
    return "ops/" + re.sub(r"[^\w .-]", "", title.lower()).strip() + ".md"


def _markdown_pages(text: str) -> list[tuple[str, str]]:
    """(title, markdown) of each page of `text`: a page starts at a `# ` line outside a code
    fence."""
    found: list[tuple[str, list[str]]] = []
    fenced = False
    for line in text.strip().splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if line.startswith("# ") and not fenced:
            found.append((line[2:].strip(), []))
        found[-1][1].append(line)
    return [(title, "\n".join(lines).strip() + "\n") for title, lines in found]


def ops_pages() -> list[Page]:
    return [
        Page(title, "Operations", ops_filename(title), content)
        for title, content in _markdown_pages(search_corpus_ops.PAGES)
    ]


def ops_queries(kind: str) -> list[Query]:
    """The operations pages' `keyword`, `paraphrase` or `mixed` queries, one per page."""
    sets = {
        "keyword": search_corpus_ops.KEYWORD_QUERIES,
        "paraphrase": search_corpus_ops.PARAPHRASE_QUERIES,
        "mixed": search_corpus_ops.MIXED_QUERIES,
    }
    return _queries(sets[kind], ops_filename)


# -- the paraphrase check ------------------------------------------------------------------------
def words(text: str) -> list[str]:
    plain = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    return re.findall(r"[a-z0-9]+", plain)


def variants(word: str) -> set[str]:
    """The word and simple stems: trailing s/es/ies/ing/ed/ly stripped (and `e` restored after
    ing/ed, so "making" meets "make")."""
    forms = {word}
    for suffix, replacement in (
        ("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("ly", ""), ("s", ""),
    ):  # fmt: skip
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)] + replacement
            forms.add(stem)
            if suffix in ("ing", "ed"):
                forms.add(stem + "e")
    return forms


def content_words(text: str) -> list[str]:
    return [w for w in words(text) if w not in STOPWORDS]


def paraphrase_problems(page_list: list[Page], query_list: list[Query]) -> list[str]:
    """One line per query that shares a content word (or a stem of one) with its page's title or
    body, or whose page does not exist."""
    by_file = {p.filename: p for p in page_list}
    problems = []
    for q in query_list:
        page = by_file.get(q.filename)
        if page is None:
            problems.append(f"{q.text!r}: no page titled {q.title!r}")
            continue
        page_forms = set().union(*(variants(w) for w in words(f"{page.title}\n{page.content}")))
        shared = sorted({w for w in content_words(q.text) if variants(w) & page_forms})
        if shared:
            problems.append(f"{q.text!r} -> {page.title}: shares {', '.join(shared)}")
    return problems


if __name__ == "__main__":
    import sys

    every_page = pages() + ops_pages()
    paraphrases = queries() + ops_queries("paraphrase")
    found = paraphrase_problems(every_page, paraphrases)
    found += [
        f"{q.text!r}: no page"
        for q in ops_queries("keyword") + ops_queries("mixed")
        if q.filename not in {p.filename for p in every_page}
    ]
    print(f"{len(every_page)} pages, {len(paraphrases)} paraphrases, {len(found)} problem(s)")
    print("\n".join(found))
    sys.exit(1 if found else 0)
