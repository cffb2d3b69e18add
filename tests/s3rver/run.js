// Starts s3rver (the pinned npm package) with its own command-line parser:
// the package ships the parser in lib/cli.js but no executable for it.
'use strict';
require('@20minutes/s3rver/lib/cli.js').parseAsync(process.argv);
