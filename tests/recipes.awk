# SPDX-License-Identifier: GPL-2.0
# Pulls the recipes out of docs/locustfs.rst, for the tests that run them as written. A recipe
# is a comment line ".. recipe: NAME" followed by one ".. code-block:: LANG" whose indented
# body is the recipe's code, saved under the file name NAME. Runs under busybox awk too.
#
#   awk -f tests/recipes.awk docs/locustfs.rst               NAME LANG, one a line
#   awk -v name=NAME -f tests/recipes.awk docs/locustfs.rst  the code of NAME, unindented
#
# Exit status 1, with a message on stderr, for a recipe without a code block, a name given
# twice, or (with name=) a name that is not in the document.

function fail(msg) {
	print "recipes.awk: " FILENAME ":" FNR ": " msg >"/dev/stderr"
	bad = 1
	exit 1
}

# finish: the block being read is complete.
function finish() {
	if (cur == "")
		return
	if (nbody == 0)
		fail("recipe " cur " has an empty code block")
	if (name == "")
		print cur, lang[cur]
	else if (cur == name) {
		found = 1
		for (i = 1; i <= nbody; i++)
			print body[i]
	}
	cur = ""
}

inblock && /^$/ { blanks++; next }
inblock && /^   / {
	for (; blanks > 0 && nbody > 0; blanks--)
		body[++nbody] = ""
	blanks = 0
	line = $0
	sub(/^   /, "", line)
	body[++nbody] = line
	next
}
inblock { inblock = 0; finish() }

pending != "" && /^\.\. code-block::/ {
	cur = pending
	lang[cur] = $3
	pending = ""
	inblock = 1
	nbody = 0
	blanks = 0
	next
}
pending != "" && !/^$/ { fail("recipe " pending " is not followed by a code block") }

/^\.\. recipe: / {
	if ($3 in seen)
		fail("recipe " $3 " given twice")
	seen[$3] = 1
	pending = $3
}

END {
	if (bad)
		exit 1
	if (inblock)
		finish()
	if (pending != "")
		fail("recipe " pending " is not followed by a code block")
	if (name != "" && !found) {
		print "recipes.awk: no recipe " name " in " FILENAME >"/dev/stderr"
		exit 1
	}
}
