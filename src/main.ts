// Process entry for `npm start`: the CLI serves when no subcommand is given.
import './cli/main.js';
