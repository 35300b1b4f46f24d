from newsmon.cli import main

# Guarded: extraction worker processes import the main module again (multiprocessing's forkserver).
if __name__ == "__main__":
    main()
