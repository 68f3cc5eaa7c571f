# Bytes a text editor would not write: generated here, not kept in git.
printf -- '---\ntitle: "Caf\351 culture"\ncountry: France\n---\n' > content/cases/latin1.md
printf -- '---\ntitle: "Nul"\n---\n\nA\000B\n' > content/cases/nul-byte.md
printf -- '\357\273\277---\ntitle: "With a byte-order mark"\ncountry: Peru\nyear: 2010\nsector: health\nsources: ["A, B. (2010). A report."]\n---\r\n\r\n## Lessons for practice\r\n\r\n- TODO: a lesson.\r\n' > content/cases/bom-crlf.md
