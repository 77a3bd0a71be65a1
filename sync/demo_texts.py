"""The demo election's source: the Pyrénées-Atlantiques budget participatif, in five languages."""

# write_demo replaces @OPENS@ and @CLOSES@ with dates computed from its clock, so the demo is
# always open. Everything else is the TOML an organiser would write (docs/election-source.md).
DEMO_SOURCE = """\
# Demo election: the participatory budget of the Pyrénées-Atlantiques (64).
# Basque and Occitan are spoken in the département (Pays basque and Béarn).

slug = "bp64-demo"
languages = ["fr", "en", "es", "eu", "oc"]
currency = "EUR"
duplicate_policy = "hold"

[title]
fr = "Budget participatif des Pyrénées-Atlantiques"
en = "Pyrénées-Atlantiques participatory budget"
es = "Presupuesto participativo de Pirineos Atlánticos"
eu = "Pirinio Atlantikoetako aurrekontu parte-hartzaileak"
oc = "Budgèt participatiu dels Pirenèus Atlantics"

[intro]
fr = \"\"\"
Le Département consacre 2,1 millions d'euros à des projets proposés par les habitants.
Vous votez en deux parties : d'abord les projets pour tout le département (de 1 à 3 projets),
puis les projets de votre territoire, dans la limite de l'enveloppe. Cela prend environ 5 minutes.
Les projets qui recueillent le plus de voix seront réalisés.\"\"\"
en = \"\"\"
The Département is spending 2.1 million euros on projects put forward by residents.
You vote in two parts: first, projects for the whole département (choose 1 to 3),
then projects for your local area, within the amount available. It takes about 5 minutes.
The projects with the most votes will be carried out.\"\"\"
es = \"\"\"
El Departamento dedica 2,1 millones de euros a proyectos propuestos por los vecinos.
Usted vota en dos partes: primero, proyectos para todo el departamento (de 1 a 3),
después, proyectos de su territorio, sin pasar del importe disponible. Se tarda unos 5 minutos.
Se realizarán los proyectos que obtengan más votos.\"\"\"
eu = \"\"\"
Departamenduak 2,1 milioi euro bideratzen ditu herritarrek proposatutako proiektuetara.
Bi zatitan bozkatzen duzu: lehenik, departamendu osorako proiektuak (1etik 3ra),
gero, zure lurraldeko proiektuak, eskuragarri dagoen diruaren barruan. 5 minutu inguru behar dira.
Boto gehien jasotzen dituzten proiektuak gauzatuko dira.\"\"\"
oc = \"\"\"
Lo Departament consacra 2,1 milions d'èuros a de projèctes prepausats pels estatjants.
Votatz en doas partidas: d'en primièr los projèctes per tot lo departament (de 1 a 3),
puèi los projèctes de vòstre territòri, dins lo limit de l'enveloppa. Demanda a l'entorn de 5 minutas.
Los projèctes qu'amassan mai de vòtes seràn realizats.\"\"\"

[privacy_notice]
fr = \"\"\"
Vos données personnelles
Pour éviter qu'une personne vote deux fois, nous vous demandons votre nom, votre prénom, votre date
de naissance et votre code postal. Ces informations ne sont jamais enregistrées telles quelles :
l'appareil en calcule une empreinte chiffrée et scellée, qui ne permet pas de retrouver votre nom.
Votre vote reste secret : personne ne peut relier votre vote à votre identité.
Les empreintes sont effacées 3 mois après la publication des résultats.
Responsable : Département des Pyrénées-Atlantiques. Vous pouvez demander l'accès à vos données,
leur rectification ou leur effacement, et vous opposer à leur traitement, en écrivant au délégué à
la protection des données : Hôtel du Département, 64 avenue Jean-Biray, 64058 Pau cedex 9, ou
dpo@departement64.example. Vous pouvez aussi saisir la CNIL (www.cnil.fr).\"\"\"
en = \"\"\"
Your personal data
To stop anyone voting twice, we ask for your surname, first name, date of birth and postcode.
This information is never stored as you type it: the device turns it into a sealed, encrypted
fingerprint, which cannot be turned back into your name.
Your vote stays secret: nobody can link your vote to who you are.
The fingerprints are deleted 3 months after the results are published.
Data controller: Département des Pyrénées-Atlantiques. You can ask to see, correct or delete your
data, and object to its use, by writing to the data protection officer: Hôtel du Département,
64 avenue Jean-Biray, 64058 Pau cedex 9, France, or dpo@departement64.example. You can also
complain to the CNIL, the French data protection authority (www.cnil.fr).\"\"\"
es = \"\"\"
Sus datos personales
Para evitar que alguien vote dos veces, le pedimos su apellido, su nombre, su fecha de nacimiento
y su código postal. Estos datos nunca se guardan tal cual: el aparato calcula con ellos una huella
cifrada y sellada, que no permite recuperar su nombre.
Su voto es secreto: nadie puede relacionar su voto con su identidad.
Las huellas se borran 3 meses después de publicarse los resultados.
Responsable: Departamento de Pirineos Atlánticos. Puede pedir el acceso a sus datos, su
rectificación o su supresión, y oponerse a su tratamiento, escribiendo al delegado de protección de
datos: Hôtel du Département, 64 avenue Jean-Biray, 64058 Pau cedex 9, Francia, o
dpo@departement64.example. También puede reclamar ante la CNIL (www.cnil.fr).\"\"\"
eu = \"\"\"
Zure datu pertsonalak
Inork bi aldiz boza ez dezan, zure abizena, izena, jaiotze-data eta posta-kodea eskatzen dizkizugu.
Datu horiek ez dira inoiz diren bezala gordetzen: gailuak hatz-marka zifratu eta zigilatu bat
kalkulatzen du haiekin, eta hortik ezin da zure izena berreskuratu.
Zure botoa isilpekoa da: inork ezin du zure botoa zure nortasunarekin lotu.
Hatz-markak emaitzak argitaratu eta 3 hilabetera ezabatzen dira.
Arduraduna: Pirinio Atlantikoetako Departamendua. Zure datuak ikusteko, zuzentzeko edo ezabatzeko
eskatu dezakezu, bai eta haien erabilerari aurka egin ere, datuen babeserako ordezkariari idatziz:
Hôtel du Département, 64 avenue Jean-Biray, 64058 Pau cedex 9, edo dpo@departement64.example.
CNILera ere jo dezakezu (www.cnil.fr).\"\"\"
oc = \"\"\"
Vòstras donadas personalas
Per empachar qu'una persona vòte doas còps, vos demandam vòstre nom, vòstre pichon nom, vòstra
data de naissença e vòstre còdi postal. Aquelas informacions son pas jamai enregistradas tal coma
son: l'aparelh ne calcula una emprencha chifrada e sagelada, que permet pas de tornar trobar
vòstre nom.
Vòstre vòte demòra secret: degun pòt pas religar vòstre vòte a vòstra identitat.
Las emprenchas son escafadas 3 meses aprèp la publicacion dels resultats.
Responsable: Departament dels Pirenèus Atlantics. Podètz demandar l'accès a vòstras donadas, lor
rectificacion o lor escafament, e vos opausar a lor tractament, en escrivent al delegat a la
proteccion de las donadas: Hôtel du Département, 64 avenue Jean-Biray, 64058 Pau cedex 9, o
dpo@departement64.example. Podètz tanben sasir la CNIL (www.cnil.fr).\"\"\"

[window]
opens = @OPENS@
closes = @CLOSES@
timezone = "Europe/Paris"

[eligibility]
min_age = 11
postcode_prefixes = ["64"]
identity_fields = ["last_name", "first_name", "birth_date", "postcode"]
residence_declaration = true

# ---------------------------------------------------------------------------------------------
[[sections]]
id = "departement"
budget = 1500000
ballot = { type = "approval", min = 1, max = 3 }

[sections.title]
fr = "Projets pour tout le département"
en = "Projects for the whole département"
es = "Proyectos para todo el departamento"
eu = "Departamendu osorako proiektuak"
oc = "Projèctes per tot lo departament"

[sections.summary]
fr = "300 000 € sont réservés aux projets pour la jeunesse, marqués « Jeunesse »."
en = "300,000 euros are set aside for projects for young people, marked “Youth”."
es = "Se reservan 300 000 euros para proyectos dirigidos a los jóvenes, marcados «Juventud»."
eu = "300 000 euro gazteentzako proiektuetarako gordeta daude, «Gazteria» markarekin."
oc = "300 000 èuros son reservats als projèctes per la joventut, marcats « Joventut »."

[sections.tally]
rules = ["greedy", "equalshares/add1"]
reserved = [{ category = "jeunesse", amount = 300000 }]

[[sections.projects]]
id = "D01"
cost = 220000
canton = "Oloron-Sainte-Marie-2"
category = "mobilite"
title.fr = "Navettes à la demande dans les vallées d'Aspe et de Barétous"
title.en = "On-demand minibuses in the Aspe and Barétous valleys"
title.es = "Microbuses a demanda en los valles de Aspe y Barétous"
title.eu = "Eskaerapeko mikrobusak Aspe eta Baretous ibarretan"
title.oc = "Navetas a la demanda dins las valadas d'Aspa e de Baretons"
summary.fr = "Un minibus que l'on réserve par téléphone la veille, pour aller au marché, chez le médecin ou à la gare d'Oloron. Pensé d'abord pour les personnes âgées sans voiture."
summary.en = "A minibus you book by phone the day before, to get to the market, the doctor or Oloron station. Designed first of all for older people without a car."
summary.es = "Un microbús que se reserva por teléfono el día anterior para ir al mercado, al médico o a la estación de Oloron. Pensado sobre todo para personas mayores sin coche."
summary.eu = "Aurreko egunean telefonoz erreserbatzen den mikrobusa, azokara, medikuarengana edo Oloroeko geltokira joateko. Autorik gabeko adinekoentzat pentsatua batez ere."
summary.oc = "Un minibus que se resèrva per telefòn la velha, per anar al mercat, al mètge o a la gara d'Auloron. Pensat d'en primièr per las personas atjadas sens veitura."

[[sections.projects]]
id = "D02"
cost = 280000
canton = "Orthez et Terres des Gaves et du Sel"
category = "jeunesse"
title.fr = "Un skatepark couvert à Orthez"
title.en = "A covered skatepark in Orthez"
title.es = "Un skatepark cubierto en Orthez"
title.eu = "Skatepark estalia Orthezen"
title.oc = "Un skatepark cobèrt a Ortès"
summary.fr = "Un skatepark sous abri, utilisable toute l'année, avec des cours gratuits le mercredi pour les 11-17 ans."
summary.en = "A sheltered skatepark that can be used all year round, with free lessons on Wednesdays for 11 to 17 year olds."
summary.es = "Un skatepark a cubierto, que se puede usar todo el año, con clases gratuitas los miércoles para jóvenes de 11 a 17 años."
summary.eu = "Urte osoan erabil daitekeen skatepark estalia, asteazkenetan doako ikastaroekin 11 eta 17 urte bitarteko gazteentzat."
summary.oc = "Un skatepark a l'abric, utilizable tota l'annada, amb de corses gratuits lo dimècres pels joves de 11 a 17 ans."

[[sections.projects]]
id = "D03"
cost = 450000
canton = "Lescar, Gave et Terres du Pont-Long"
category = "mobilite"
title.fr = "Voie verte le long du gave de Pau, de Lescar à Artix"
title.en = "A greenway along the Gave de Pau, from Lescar to Artix"
title.es = "Vía verde a lo largo del río Gave de Pau, de Lescar a Artix"
title.eu = "Bide berdea Pauko uhaitzaren ondoan, Lescartik Artixera"
title.oc = "Via verda al long del gave de Pau, de Lescar a Artics"
summary.fr = "Une piste sans voitures pour marcher et pédaler en sécurité entre les villages, avec des bancs et des points d'eau."
summary.en = "A car-free path for walking and cycling safely between villages, with benches and drinking water."
summary.es = "Un camino sin coches para andar y pedalear con seguridad entre los pueblos, con bancos y fuentes."
summary.eu = "Autorik gabeko bidea, herrien artean segurtasunez oinez eta bizikletaz ibiltzeko, eserlekuekin eta iturriekin."
summary.oc = "Una pista sens veituras per caminar e pedalar en seguretat entre los vilatges, amb de bancs e de fonts."

[[sections.projects]]
id = "D04"
cost = 160000
canton = "Bayonne-1"
category = "jeunesse"
title.fr = "Un tiers-lieu numérique pour les jeunes à Bayonne"
title.en = "A digital workshop space for young people in Bayonne"
title.es = "Un espacio digital para jóvenes en Bayona"
title.eu = "Gazteentzako gune digitala Baionan"
title.oc = "Un tèrç-lòc numeric pels joves a Baiona"
summary.fr = "Un lieu ouvert après les cours pour apprendre à coder, réparer un ordinateur, monter une vidéo ou chercher un stage, avec deux animateurs."
summary.en = "A place open after school to learn coding, repair a computer, edit a video or look for a work placement, with two youth workers."
summary.es = "Un lugar abierto después de clase para aprender a programar, reparar un ordenador, montar un vídeo o buscar prácticas, con dos monitores."
summary.eu = "Eskolaren ondoren irekitako gunea, programatzen ikasteko, ordenagailu bat konpontzeko, bideo bat muntatzeko edo praktikak bilatzeko, bi begiralerekin."
summary.oc = "Un lòc dobèrt aprèp los corses per aprendre a programar, reparar un ordenador, montar una vidèo o cercar un estagi, amb dos animators."

[[sections.projects]]
id = "D05"
cost = 90000
canton = "Pays de Bidache, Amikuze et Ostibarre"
category = "environnement"
title.fr = "Vergers conservatoires de variétés anciennes"
title.en = "Orchards to save old fruit varieties"
title.es = "Huertos para conservar variedades antiguas de frutales"
title.eu = "Fruta-barietate zaharrak zaintzeko baratzeak"
title.oc = "Vergièrs per gardar las varietats ancianas"
summary.fr = "Planter des pommiers, poiriers et cerisiers de variétés locales dans dix communes, avec les écoles et les associations."
summary.en = "Planting local varieties of apple, pear and cherry trees in ten villages, together with schools and local groups."
summary.es = "Plantar manzanos, perales y cerezos de variedades locales en diez municipios, con las escuelas y las asociaciones."
summary.eu = "Tokiko barietateetako sagarrondoak, udareondoak eta gereziondoak landatzea hamar herritan, eskolekin eta elkarteekin batera."
summary.oc = "Plantar de pomièrs, de perièrs e de cerièrs de varietats localas dins dètz comunas, amb las escòlas e las associacions."

[[sections.projects]]
id = "D06"
cost = 120000
canton = "Le Cœur de Béarn"
category = "sante"
title.fr = "Défibrillateurs et gestes qui sauvent dans 100 villages"
title.en = "Defibrillators and first-aid training in 100 villages"
title.es = "Desfibriladores y formación en primeros auxilios en 100 pueblos"
title.eu = "Desfibriladoreak eta lehen laguntzako prestakuntza 100 herritan"
title.oc = "Desfibrillators e gèstes que salvan dins 100 vilatges"
summary.fr = "Un défibrillateur accessible jour et nuit dans chaque village qui n'en a pas, et des formations gratuites de deux heures pour les habitants."
summary.en = "A defibrillator available day and night in every village that does not have one, and free two-hour training sessions for residents."
summary.es = "Un desfibrilador accesible día y noche en cada pueblo que no lo tenga, y cursos gratuitos de dos horas para los vecinos."
summary.eu = "Desfibriladore bat egunez eta gauez eskuragarri ez duen herri bakoitzean, eta bi orduko doako ikastaroak herritarrentzat."
summary.oc = "Un desfibrillator accessible de jorn e de nuèch dins cada vilatge que n'a pas, e de formacions gratuitas de doas oras pels estatjants."

[[sections.projects]]
id = "D07"
cost = 200000
canton = "Anglet"
category = "environnement"
title.fr = "Protéger les dunes de la côte basque"
title.en = "Protecting the dunes of the Basque coast"
title.es = "Proteger las dunas de la costa vasca"
title.eu = "Euskal kostaldeko dunak babestea"
title.oc = "Protegir las dunas de la còsta basca"
summary.fr = "Des ganivelles et des plantations pour retenir le sable, des passages en bois pour rejoindre la plage, et des panneaux pour comprendre la dune."
summary.en = "Sand fences and planting to hold the sand, wooden walkways to reach the beach, and signs explaining how dunes work."
summary.es = "Vallas y plantaciones para retener la arena, pasarelas de madera para llegar a la playa y carteles para entender la duna."
summary.eu = "Hesiak eta landaketak harea eusteko, egurrezko pasabideak hondartzara iristeko, eta dunak ulertzeko kartelak."
summary.oc = "De ganivèlas e de plantacions per reténer lo sable, de passatges de fusta per anar a la plaja, e de panèls per comprene la duna."

[[sections.projects]]
id = "D08"
cost = 150000
canton = "Pau-2"
category = "jeunesse"
title.fr = "Bourses pour les projets des 16-25 ans"
title.en = "Grants for projects by 16 to 25 year olds"
title.es = "Becas para proyectos de jóvenes de 16 a 25 años"
title.eu = "16 eta 25 urte bitartekoen proiektuetarako bekak"
title.oc = "Bórsas pels projèctes dels 16-25 ans"
summary.fr = "Jusqu'à 3 000 € pour un projet porté par des jeunes : une association, un festival, un chantier solidaire, un premier film."
summary.en = "Up to 3,000 euros for a project run by young people: a club, a festival, a volunteering project, a first film."
summary.es = "Hasta 3000 euros para un proyecto llevado por jóvenes: una asociación, un festival, un voluntariado, una primera película."
summary.eu = "Gehienez 3000 euro gazteek eramandako proiektu baterako: elkarte bat, jaialdi bat, auzolan bat, lehen film bat."
summary.oc = "Fins a 3 000 èuros per un projècte menat per de joves: una associacion, un festenal, un chantièr solidari, un primièr filme."

[[sections.projects]]
id = "D09"
cost = 70000
canton = "Nive-Adour"
category = "culture"
title.fr = "Cafés de conversation en basque et en occitan"
title.en = "Conversation cafés in Basque and Occitan"
title.es = "Cafés de conversación en euskera y en occitano"
title.eu = "Solasaldi-kafeak euskaraz eta okzitanieraz"
title.oc = "Cafès de convèrsa en basc e en occitan"
summary.fr = "Des rencontres gratuites chaque semaine dans les médiathèques pour parler basque ou occitan, que l'on débute ou que ce soit sa langue depuis l'enfance."
summary.en = "Free weekly get-togethers in public libraries to speak Basque or Occitan, whether you are a beginner or have spoken it since childhood."
summary.es = "Encuentros gratuitos cada semana en las mediatecas para hablar euskera u occitano, tanto si empieza como si es su lengua desde la infancia."
summary.eu = "Doako topaketak astero mediateketan euskaraz edo okzitanieraz hitz egiteko, hasiberria izan edo txikitatik hitz egin."
summary.oc = "De rencontres gratuitas cada setmana dins las mediatècas per parlar basc o occitan, que siatz debutant o que siá vòstra lenga dempuèi l'enfança."

# ---------------------------------------------------------------------------------------------
[[sections]]
id = "territoires"
budget = 600000
ballot = { type = "knapsack", min_spend = 0 }

[sections.title]
fr = "Projets de votre territoire"
en = "Projects in your local area"
es = "Proyectos de su territorio"
eu = "Zure lurraldeko proiektuak"
oc = "Projèctes de vòstre territòri"

[sections.summary]
fr = "Des projets près de chez vous, dans les cantons du département : écoles, chemins, sport, culture."
en = "Projects close to home, in the département's cantons: schools, paths, sport, culture."
es = "Proyectos cerca de su casa, en los cantones del departamento: escuelas, caminos, deporte, cultura."
eu = "Zure etxetik hurbileko proiektuak, departamenduko kantonamenduetan: eskolak, bideak, kirola, kultura."
oc = "De projèctes prèp de çò vòstre, dins los cantons del departament : escòlas, camins, espòrt, cultura."

[sections.tally]
rules = ["greedy", "equalshares/add1"]
min_per_canton = true

[[sections.projects]]
id = "T01"
cost = 85000
canton = "Biarritz"
category = "jeunesse"
title.fr = "Une aire de jeux pour tous les enfants à Biarritz"
title.en = "A playground for every child in Biarritz"
title.es = "Un parque infantil para todos los niños en Biarritz"
title.eu = "Haur guztientzako jolasgunea Miarritzen"
title.oc = "Una aira de jòcs per totes los mainatges a Biarritz"
summary.fr = "Des jeux accessibles aux enfants en fauteuil roulant ou malvoyants, un sol souple et de l'ombre."
summary.en = "Play equipment that children in wheelchairs or with poor sight can use too, with a soft floor and shade."
summary.es = "Juegos accesibles para niños en silla de ruedas o con discapacidad visual, suelo blando y sombra."
summary.eu = "Gurpil-aulkian dauden edo ikusmen urria duten haurrentzat ere egokiak diren jolasak, lurzoru leunarekin eta itzalarekin."
summary.oc = "De jòcs accessibles als mainatges en fautuèlh rotlant o malvesents, un sòl flexible e d'ombra."

[[sections.projects]]
id = "T02"
cost = 60000
canton = "Pays de Bidache, Amikuze et Ostibarre"
category = "patrimoine"
title.fr = "Restaurer le lavoir et la place de Saint-Palais"
title.en = "Restoring the wash house and square in Saint-Palais"
title.es = "Restaurar el lavadero y la plaza de Saint-Palais"
title.eu = "Donapaleuko garbitokia eta plaza zaharberritzea"
title.oc = "Restaurar lo lavador e la plaça de Sent Palai"
summary.fr = "Réparer le toit et les bassins du lavoir, et installer des bancs et des arbres sur la place."
summary.en = "Repairing the roof and basins of the old wash house, and adding benches and trees to the square."
summary.es = "Reparar el tejado y las pilas del lavadero, e instalar bancos y árboles en la plaza."
summary.eu = "Garbitokiaren teilatua eta askak konpontzea, eta plazan eserlekuak eta zuhaitzak jartzea."
summary.oc = "Reparar lo teulat e los bacins del lavador, e installar de bancs e d'arbres sus la plaça."

[[sections.projects]]
id = "T03"
cost = 140000
canton = "Pau-3"
category = "environnement"
title.fr = "Des cours d'école plus fraîches à Pau"
title.en = "Cooler school playgrounds in Pau"
title.es = "Patios escolares más frescos en Pau"
title.eu = "Eskola-jolastoki freskoagoak Pauen"
title.oc = "De corts d'escòla mai frescas a Pau"
summary.fr = "Remplacer du bitume par de la terre, des arbres et des fontaines dans trois cours d'école, ouvertes aux habitants le week-end."
summary.en = "Replacing tarmac with soil, trees and water fountains in three school playgrounds, open to residents at weekends."
summary.es = "Sustituir el asfalto por tierra, árboles y fuentes en tres patios escolares, abiertos a los vecinos los fines de semana."
summary.eu = "Asfaltoa lurrez, zuhaitzez eta iturriez ordeztea hiru eskola-jolastokitan, asteburuetan herritarrei irekiak."
summary.oc = "Remplaçar lo bitum per de tèrra, d'arbres e de fonts dins tres corts d'escòla, dobèrtas als estatjants la fin de setmana."

[[sections.projects]]
id = "T04"
cost = 190000
canton = "Ustaritz-Vallées de Nive et Nivelle"
category = "mobilite"
title.fr = "Une passerelle pour piétons et vélos sur la Nive"
title.en = "A footbridge for walkers and cyclists over the Nive"
title.es = "Una pasarela para peatones y bicicletas sobre el Nive"
title.eu = "Oinezkoentzako eta bizikletentzako pasabidea Errobi gainean"
title.oc = "Una passarèla per vianants e bicicletas sus la Niva"
summary.fr = "Relier les deux rives sans passer par la route départementale, pour aller à l'école ou au travail à pied ou à vélo."
summary.en = "Linking both banks without using the main road, so people can walk or cycle to school or work."
summary.es = "Unir las dos orillas sin pasar por la carretera, para ir a la escuela o al trabajo a pie o en bicicleta."
summary.eu = "Bi ertzak lotzea errepidetik pasa gabe, eskolara edo lanera oinez edo bizikletaz joateko."
summary.oc = "Religar las doas ribas sens passar per la rota departamentala, per anar a l'escòla o al trabalh a pè o en bicicleta."

[[sections.projects]]
id = "T05"
cost = 110000
canton = "Montagne Basque"
category = "jeunesse"
title.fr = "Un foyer des jeunes à Mauléon"
title.en = "A youth club in Mauléon"
title.es = "Un local juvenil en Mauléon"
title.eu = "Gazte-etxea Maulen"
title.oc = "Un fogal dels joves a Mauleon"
summary.fr = "Aménager une ancienne grange en lieu de rencontre pour les jeunes de la Soule, avec une salle de musique."
summary.en = "Turning an old barn into a meeting place for young people in Soule, with a music room."
summary.es = "Acondicionar un antiguo granero como lugar de encuentro para los jóvenes de Soule, con una sala de música."
summary.eu = "Borda zahar bat Zuberoako gazteentzako topagune bihurtzea, musika-gela batekin."
summary.oc = "Amainatjar una anciana bòrda en lòc de rencontre pels joves de Sola, amb una sala de musica."

[[sections.projects]]
id = "T06"
cost = 120000
canton = "Pays de Morlaàs et du Montanérès"
category = "economie"
title.fr = "Une halle pour le marché des producteurs à Morlaàs"
title.en = "A covered hall for the farmers' market in Morlaàs"
title.es = "Un mercado cubierto para los productores en Morlaàs"
title.eu = "Ekoizleen azokarako merkatu estalia Morlanen"
title.oc = "Una hala pel mercat dels productors a Morlans"
summary.fr = "Un abri pour que le marché du samedi puisse se tenir par tous les temps, avec des places réservées aux producteurs du canton."
summary.en = "A shelter so that the Saturday market can go ahead in any weather, with stalls kept for local producers."
summary.es = "Un techado para que el mercado del sábado se celebre con cualquier tiempo, con puestos reservados a los productores de la zona."
summary.eu = "Aterpe bat, larunbateko azoka edozein eguraldirekin egin dadin, eskualdeko ekoizleentzat gordetako postuekin."
summary.oc = "Un abric per que lo mercat del dissabte se pòsca tenir per totes los temps, amb de plaças reservadas als productors del canton."

[[sections.projects]]
id = "T07"
cost = 95000
canton = "Hendaye-Côte Basque-Sud"
category = "solidarite"
title.fr = "Un sentier du littoral accessible à tous à Hendaye"
title.en = "A coastal path everyone can use in Hendaye"
title.es = "Un sendero costero accesible para todos en Hendaya"
title.eu = "Guztiontzako kostaldeko bidexka Hendaian"
title.oc = "Un caminòl del litorau accessible a totes a Endaia"
summary.fr = "Un kilomètre de sentier sans marche, praticable en fauteuil roulant ou avec une poussette, avec des bancs tous les 100 mètres."
summary.en = "One kilometre of path with no steps, usable with a wheelchair or a pushchair, with a bench every 100 metres."
summary.es = "Un kilómetro de sendero sin escalones, practicable en silla de ruedas o con carrito, con bancos cada 100 metros."
summary.eu = "Kilometro bateko bidexka mailarik gabe, gurpil-aulkiarekin edo haur-kotxearekin ibiltzeko modukoa, 100 metrotik behin eserleku batekin."
summary.oc = "Un quilomètre de caminòl sens escalièr, practicable en fautuèlh rotlant o amb un carriòl, amb un banc cada 100 mètres."
"""
