# A case file of just over 1 MB, generated here, not kept in git.
{
	printf -- '---\ntitle: "Huge"\ncountry: Peru\nyear: 2010\nsector: health\nsources: ["A, B. (2010). A report."]\n---\n\n## Context\n\n'
	i=0
	while [ $i -lt 16400 ]; do
		echo 'A line of sixty-four bytes of text, repeated to pass one MB....'
		i=$((i + 1))
	done
	printf '\n## Lessons for practice\n\n- A lesson.\n'
} > content/cases/huge.md
